"""The ``config.json`` that travels with saved weights, and rebuilding a model from it."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from alnumzoo._version import __version__
from alnumzoo.data.profiles import PROFILES, profile_of
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
    profile = profile_of(model).name
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
        # The data the weights were made for, which a new head (other labels) does not change.
        "data_profile": profile if profile in PROFILES else None,
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


#: A config describes one small model: anything larger is not one (the shipped ones are 20 KB).
MAX_CONFIG_BYTES = 1 << 20
#: Upper bounds for the numbers a config sets, far above any model in this zoo, so a hostile
#: config cannot make the constructor allocate gigabytes before the weights are even read.
_LIMITS = {"num_classes": 100_000, "in_chans": 64, "side": 4096, "width": 8192}


def read_config(path: Path) -> dict[str, Any]:
    """Read and check a ``config.json``: at most `MAX_CONFIG_BYTES`, UTF-8 JSON, and the
    numbers that size the model (class count, channels, input size, widths) within bounds.

    Raises:
        ValueError: too large, not UTF-8 JSON, nested too deeply, no ``architecture``, or a
            constructor argument of the wrong type or out of range.
    """
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ValueError(
                f"{path}: {size:,} bytes; a config.json is at most {MAX_CONFIG_BYTES:,}"
            )
        config = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ValueError(f"{path}: expected an alnumzoo config.json ({reason})") from None
    if not isinstance(config, dict) or "architecture" not in config:
        raise ValueError(f"{path}: expected a JSON object with an 'architecture' field")
    init_args = config.get("init_args", {})
    if not isinstance(init_args, dict):
        raise ValueError(f"{path}: 'init_args' must be an object")
    _check_sizes(init_args, path)
    labels = config.get("labels")
    if labels is not None and not isinstance(labels, dict):
        raise ValueError(f"{path}: 'labels' must be an object with 'names', got {type(labels)}")
    return config


def _check_sizes(init_args: dict[str, Any], path: Path) -> None:
    def bounded(name: str, value: Any, limit: int, low: int = 1) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= limit:
            raise ValueError(
                f"{path}: init_args {name} must be an integer in [{low}, {limit:,}], got "
                f"{str(value)[:50]}"
            )

    if init_args.get("num_classes") is not None:
        bounded("num_classes", init_args["num_classes"], _LIMITS["num_classes"], low=0)
    if "in_chans" in init_args:
        bounded("in_chans", init_args["in_chans"], _LIMITS["in_chans"])
    for name in ("input_size", "widths", "hidden"):
        value = init_args.get(name)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        limit = _LIMITS["side"] if name == "input_size" else _LIMITS["width"]
        if len(items) > 16:
            raise ValueError(f"{path}: init_args {name} has {len(items)} entries")
        for item in items:
            bounded(name, item, limit)


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
