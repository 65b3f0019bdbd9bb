"""The ``config.json`` that travels with saved weights, and rebuilding a model from it."""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alnumzoo._version import __version__
from alnumzoo.data.profiles import PROFILES
from alnumzoo.labels import LabelMap
from alnumzoo.models.base import TEMPERATURE_RANGE, UNDO_SMOOTHING_RANGE, ZooModel
from alnumzoo.models.pretrained_cfg import PretrainedCfg
from alnumzoo.models.registry import get_model_entry

__all__ = [
    "CARD_NAME",
    "CONFIG_NAME",
    "CONFIG_VERSION",
    "SAVED_FILES",
    "WEIGHTS_NAME",
    "SavedConfig",
    "build_from_config",
    "model_config",
    "parse_config",
    "read_calibration",
    "read_config",
]

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
CARD_NAME = "README.md"
#: Every file a save_pretrained folder holds; nothing else is uploaded by push_to_hub.
SAVED_FILES = (WEIGHTS_NAME, CONFIG_NAME, CARD_NAME)


#: The layout ``model_config`` writes: 2 keeps each fact once (timm's keys where it has them)
#: and the typed record; 1 (alnumzoo 0.1's first configs) is still read.
CONFIG_VERSION = 2


def model_config(model: ZooModel) -> dict[str, Any]:
    """JSON-ready description that rebuilds ``model``: architecture, constructor arguments,
    class count and labels (each once, in timm's keys), the calibration (softmax temperature
    and the label smoothing it undoes), and the
    typed record of its weights (`PretrainedCfg`: input contract, recipe, metrics,
    provenance) as ``pretrained_cfg``."""
    label_map: dict[str, Any] | None = None
    if model.labels is not None:
        label_map = {k: v for k, v in model.labels.to_dict().items() if k != "names"}
    record = model.record.to_dict()
    for key in ("num_classes", "label_names"):  # timm reads them from the top level
        del record[key]
    return {
        "library_name": "alnumzoo",
        "library_version": __version__,
        "config_version": CONFIG_VERSION,
        "architecture": model.arch,
        "num_classes": model.num_classes,
        "label_names": list(model.labels.names) if model.labels is not None else None,
        "labels": label_map,
        "model_args": {k: v for k, v in model.init_args.items() if k != "num_classes"},
        "temperature": model.temperature,
        "undo_smoothing": model.undo_smoothing,
        "pretrained_cfg": record,
    }


@dataclass(frozen=True)
class SavedConfig:
    """A checked ``config.json``, in either layout.

    Attributes:
        architecture: Registry name of the architecture.
        model_args: Constructor keyword arguments, ``num_classes`` included.
        labels: The class names and their label map's name, or ``None``.
        temperature: Softmax temperature (1.0 when none was fitted).
        undo_smoothing: Label smoothing the calibration takes out first (0.0 when none).
        record: The weights' record, or ``None`` in a config too old to hold one.
        data_profile: The data set the weights were made for: the record's, or in the first
            layout its own key or the name of its labels.
    """

    architecture: str
    model_args: dict[str, Any]
    labels: LabelMap | None
    temperature: float
    undo_smoothing: float
    record: PretrainedCfg | None
    data_profile: str | None


def read_calibration(config: Mapping[str, Any], where: str) -> tuple[float, float]:
    """The softmax temperature and the label smoothing it undoes that a config records
    (1.0 and 0.0 when it has none).

    Raises:
        ValueError: either is not a number in its range (`TEMPERATURE_RANGE`,
            `UNDO_SMOOTHING_RANGE`).
    """
    values = []
    for key, default, (low, high) in (
        ("temperature", 1.0, TEMPERATURE_RANGE),
        ("undo_smoothing", 0.0, UNDO_SMOOTHING_RANGE),
    ):
        value = config.get(key, default)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not low <= value <= high:
            raise ValueError(f"{where}: {key!r} must be a number in [{low}, {high}], got {value!r}")
        values.append(float(value))
    return values[0], values[1]


#: A config describes one small model: anything larger is not one (the shipped ones are 20 KB).
MAX_CONFIG_BYTES = 1 << 20
#: Upper bounds for the numbers a config sets, far above any model in this zoo, so a hostile
#: config cannot make the constructor allocate gigabytes before the weights are even read.
_LIMITS = {"num_classes": 100_000, "in_chans": 64, "side": 4096, "width": 8192}


def read_config(path: Path) -> SavedConfig:
    """Read and check a ``config.json``: at most `MAX_CONFIG_BYTES`, UTF-8 JSON, then
    [`parse_config`][alnumzoo.hub.config.parse_config].

    Raises:
        ValueError: too large, not UTF-8 JSON, nested too deeply, or what ``parse_config``
            refuses; the message names the file.
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
    return parse_config(config, str(path))


def parse_config(config: Any, where: str = "config.json") -> SavedConfig:
    """Check a parsed ``config.json`` and type it. Reads both layouts: 2 (``model_args``
    without the class count, labels once in ``label_names``) and 1 (``init_args``, labels with
    their names, ``data_profile`` beside the record).

    Raises:
        ValueError: no ``architecture``; constructor arguments, labels, temperature or
            record of the wrong type or out of range (the numbers that size the model are
            bounded, so a hostile config cannot make it allocate gigabytes).
    """
    if not isinstance(config, dict) or "architecture" not in config:
        raise ValueError(f"{where}: expected a JSON object with an 'architecture' field")
    first_layout = "model_args" not in config
    args_key = "init_args" if first_layout else "model_args"
    model_args = config.get(args_key, {})
    if not isinstance(model_args, dict):
        raise ValueError(f"{where}: '{args_key}' must be an object")
    model_args = dict(model_args)
    if not first_layout and config.get("num_classes") is not None:
        model_args["num_classes"] = config["num_classes"]
    _check_sizes(model_args, where, args_key)
    labels = config.get("labels")
    if labels is not None and not isinstance(labels, dict):
        raise ValueError(f"{where}: 'labels' must be an object with 'names', got {type(labels)}")
    label_map = None
    if labels:
        if not first_layout:
            labels = {**labels, "names": config.get("label_names")}
        try:
            label_map = LabelMap.from_dict(labels)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: invalid labels ({exc})") from exc
    record = None
    data = config.get("pretrained_cfg")
    data = dict(data) if isinstance(data, dict) else {}
    profile = data.get("data_profile")
    if first_layout:
        profile = config.get("data_profile")
        if profile not in PROFILES and label_map is not None:
            profile = label_map.name.removesuffix("-subset")
    profile = profile if profile in PROFILES else None
    if data:
        data["data_profile"] = profile
        data.setdefault("num_classes", model_args.get("num_classes") or 0)
        record = PretrainedCfg.from_dict(data, f"{where}: pretrained_cfg")
    temperature, undo_smoothing = read_calibration(config, where)
    return SavedConfig(
        architecture=str(config["architecture"]),
        model_args=model_args,
        labels=label_map,
        temperature=temperature,
        undo_smoothing=undo_smoothing,
        record=record,
        data_profile=profile,
    )


def _check_sizes(init_args: dict[str, Any], path: str, args_key: str) -> None:
    def bounded(name: str, value: Any, limit: int, low: int = 1) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= limit:
            raise ValueError(
                f"{path}: {args_key} {name} must be an integer in [{low}, {limit:,}], got "
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
            raise ValueError(f"{path}: {args_key} {name} has {len(items)} entries")
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
        raise ValueError(f"{where}: model_args may not set {forbidden} (they load or fetch files)")
    params = inspect.signature(builder).parameters.values()
    named = {p.name for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD}
    takes_extra = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    unknown = sorted(set(kwargs) - named - (_TIMM_ARGS if takes_extra else set()))
    if unknown:
        builder_name = getattr(builder, "__name__", str(builder))
        raise ValueError(
            f"{where}: model_args {unknown} are not arguments of {builder_name} "
            f"(it takes {sorted(named - {'self'})})"
        )


def build_from_config(config: SavedConfig | Mapping[str, Any], **overrides: Any) -> ZooModel:
    """Build the (untrained) model a config describes, with constructor ``overrides``; a
    config's record is put on the model (`ZooModel.record`) unless ``labels`` or
    ``num_classes`` ask for a new head, which keeps the record's contract with the new shape.

    Raises:
        ValueError: the config names an unknown architecture, sets constructor arguments the
            architecture does not take (or that would load files, such as timm's
            ``checkpoint_path``/``pretrained``), or values the constructor rejects.
    """
    saved = config if isinstance(config, SavedConfig) else parse_config(dict(config))
    try:
        entry = get_model_entry(saved.architecture)
    except KeyError as exc:
        raise ValueError(
            f"config.json: unknown architecture {saved.architecture!r} ({exc.args[0]})"
        ) from None
    kwargs = dict(saved.model_args)
    _check_init_args(entry.builder, kwargs, "config.json")
    if saved.labels is not None and "labels" not in overrides:
        kwargs["labels"] = saved.labels
    kwargs.update(overrides)
    # JSON has no tuples: sizes and widths come back as lists.
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    try:
        model = entry.builder(**kwargs)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"config.json: cannot build {entry.name} from its model_args ({exc})"
        ) from exc
    if not isinstance(model, ZooModel):
        raise TypeError(f"{entry.name} did not build an alnumzoo model")
    if saved.record is not None:
        model.record = saved.record
    model.temperature = saved.temperature
    model.undo_smoothing = saved.undo_smoothing
    return model
