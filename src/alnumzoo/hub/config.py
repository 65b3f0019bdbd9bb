"""The ``config.json`` that travels with saved weights, and rebuilding a model from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alnumzoo._version import __version__
from alnumzoo.labels import LabelMap
from alnumzoo.models.base import ZooModel
from alnumzoo.models.registry import get_model_entry

__all__ = ["CONFIG_NAME", "WEIGHTS_NAME", "build_from_config", "model_config", "read_config"]

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


def model_config(model: ZooModel) -> dict[str, Any]:
    """JSON-ready description that rebuilds ``model`` (architecture, constructor arguments,
    labels, input contract and preprocessing)."""
    size = list(model.input_size) if model.input_size is not None else None
    return {
        "library_name": "alnumzoo",
        "library_version": __version__,
        "architecture": model.arch,
        "init_args": model.init_args,
        "num_classes": model.num_classes,
        "labels": model.labels.to_dict() if model.labels is not None else None,
        "input_size": [model.in_chans, *size] if size else [model.in_chans, None, None],
        "preprocessing": {
            "input": "float32 tensor (N, C, H, W) with values in [0, 1]",
            "normalization": "none (any normalisation is part of the model)",
        },
    }


def read_config(path: Path) -> dict[str, Any]:
    """Read and check a ``config.json``.

    Raises:
        ValueError: not JSON, or no known ``architecture``/``init_args``.
    """
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: expected an alnumzoo config.json ({exc})") from exc
    if not isinstance(config, dict) or "architecture" not in config:
        raise ValueError(f"{path}: expected a JSON object with an 'architecture' field")
    if not isinstance(config.get("init_args", {}), dict):
        raise ValueError(f"{path}: 'init_args' must be an object")
    return config


def build_from_config(config: dict[str, Any], **overrides: Any) -> ZooModel:
    """Build the (untrained) model a config describes, with constructor ``overrides``."""
    entry = get_model_entry(str(config["architecture"]))
    kwargs = dict(config.get("init_args", {}))
    if config.get("labels") and "labels" not in overrides:
        kwargs["labels"] = LabelMap.from_dict(config["labels"])
    kwargs.update(overrides)
    for key in ("widths", "hidden", "input_size"):
        if isinstance(kwargs.get(key), list):
            kwargs[key] = tuple(kwargs[key])
    model = entry.builder(**kwargs)
    if not isinstance(model, ZooModel):
        raise TypeError(f"{entry.name} did not build an alnumzoo model")
    return model
