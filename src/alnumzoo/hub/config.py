"""The ``config.json`` that travels with saved weights, and rebuilding a model from it."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from alnumzoo._version import __version__
from alnumzoo.labels import LabelMap
from alnumzoo.models.base import TEMPERATURE_RANGE, ZooModel
from alnumzoo.models.registry import get_model_entry

__all__ = [
    "CARD_NAME",
    "CONFIG_NAME",
    "SAVED_FILES",
    "WEIGHTS_NAME",
    "build_from_config",
    "model_config",
    "read_config",
    "read_temperature",
]

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
CARD_NAME = "README.md"
#: Every file a save_pretrained folder holds; nothing else is uploaded by push_to_hub.
SAVED_FILES = (WEIGHTS_NAME, CONFIG_NAME, CARD_NAME)


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
        # timm's keys, so timm and other tools read the model's input contract and labels.
        "model_args": model.init_args,
        "pretrained_cfg": model.pretrained_cfg,
        "label_names": list(model.labels.names) if model.labels is not None else None,
        "temperature": model.temperature,
    }


def read_temperature(config: dict[str, Any], where: str) -> float:
    """The softmax temperature a config records (1.0 when it has none).

    Raises:
        ValueError: not a number in `TEMPERATURE_RANGE`.
    """
    value = config.get("temperature", 1.0)
    low, high = TEMPERATURE_RANGE
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(
            f"{where}: 'temperature' must be a number in [{low}, {high}], got {value!r}"
        )
    return float(value)


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


#: Constructor arguments a config may never set: they make timm read arbitrary files or
#: download weights, which a weights folder must not be able to trigger.
_FORBIDDEN_ARGS = frozenset(
    {"pretrained", "checkpoint_path", "pretrained_cfg", "pretrained_cfg_overlay", "cache_dir"}
)
#: Extra timm arguments accepted for builders that forward ``**kwargs`` to timm.
_TIMM_ARGS = frozenset({"drop_rate", "drop_path_rate", "global_pool"})


def _check_init_args(builder: Any, kwargs: dict[str, Any], where: str) -> None:
    forbidden = sorted(_FORBIDDEN_ARGS & set(kwargs))
    if forbidden:
        raise ValueError(f"{where}: init_args may not set {forbidden} (they load or fetch files)")
    params = inspect.signature(builder).parameters.values()
    named = {p.name for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD}
    takes_extra = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    unknown = sorted(set(kwargs) - named - (_TIMM_ARGS if takes_extra else set()))
    if unknown:
        builder_name = getattr(builder, "__name__", str(builder))
        raise ValueError(
            f"{where}: init_args {unknown} are not arguments of {builder_name} "
            f"(it takes {sorted(named - {'self'})})"
        )


def build_from_config(config: dict[str, Any], **overrides: Any) -> ZooModel:
    """Build the (untrained) model a config describes, with constructor ``overrides``.

    Raises:
        ValueError: the config names an unknown architecture, sets constructor arguments the
            architecture does not take (or that would load files, such as timm's
            ``checkpoint_path``/``pretrained``), or values the constructor rejects.
    """
    name = str(config.get("architecture"))
    try:
        entry = get_model_entry(name)
    except KeyError as exc:
        raise ValueError(f"config.json: unknown architecture {name!r} ({exc.args[0]})") from None
    kwargs = dict(config.get("init_args", {}))
    _check_init_args(entry.builder, kwargs, "config.json")
    if config.get("labels") and "labels" not in overrides:
        try:
            kwargs["labels"] = LabelMap.from_dict(config["labels"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"config.json: invalid labels ({exc})") from exc
    kwargs.update(overrides)
    # JSON has no tuples: sizes and widths come back as lists.
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    try:
        model = entry.builder(**kwargs)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"config.json: cannot build {entry.name} from its init_args ({exc})"
        ) from exc
    if not isinstance(model, ZooModel):
        raise TypeError(f"{entry.name} did not build an alnumzoo model")
    return model
