"""The typed record that travels with a model's weights: its input contract, label names, the
exact recipe that trained it, its metrics and its provenance.

The input contract uses timm's ``pretrained_cfg`` vocabulary where it has one
(``input_size``, ``mean``, ``std``, ``interpolation``, ``crop_pct``, ``crop_mode``,
``num_classes``, ``label_names``), so ``timm.data.resolve_data_config(model=m)`` returns the
model's real input. alnumzoo adds how an arbitrary image is brought to that input: ``fit``
(pad or crop to the aspect), ``content_crop``, ``background`` (``"dark"``, ``"light"`` or
``None``), ``invert`` (``"auto"``: flip an image whose background is the opposite of the
model's) and ``fill`` (the background value, in [0, 1]).

The record is written once into ``config.json`` (``save_pretrained``) and read back by
``from_pretrained``; a fresh model's record is seeded from the data profile of its labels
(`PretrainedCfg.seed`). ``fit`` adds the recipe it trained with, value by value.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, get_args

from alnumzoo.data.profiles import PROFILES, Background, Fit, profile_of

if TYPE_CHECKING:
    from alnumzoo.labels import LabelMap

__all__ = ["Invert", "PretrainedCfg"]

Invert = Literal["auto", "never"]
#: Keys of the record that are the model's shape, not the weights' facts: always the current
#: model's (a new head or an adapted first conv changes them).
_SHAPE_KEYS = ("input_size", "fixed_input_size", "num_classes", "label_names")


class _Shaped(Protocol):
    """The model facts a record takes its shape from."""

    @property
    def in_chans(self) -> int: ...
    @property
    def input_size(self) -> tuple[int, int] | None: ...
    @property
    def num_classes(self) -> int: ...
    @property
    def labels(self) -> LabelMap | None: ...


@dataclass(frozen=True)
class PretrainedCfg:
    """What a model's weights expect and where they came from (see the module docstring).

    Attributes:
        input_size: ``(channels, height, width)``; height and width are 224 for a model that
            takes any size (``fixed_input_size`` is then false).
        fixed_input_size: Whether the model accepts only ``input_size``.
        num_classes: Outputs of the classifier (0: pooled features).
        label_names: Class names of the outputs, or ``None`` when unknown.
        mean: Per-channel mean the inputs are standardised with before the model (always 0:
            any normalisation is part of the model).
        std: Per-channel standard deviation (always 1, as ``mean``).
        interpolation: Resizing filter.
        crop_pct: Centre-crop fraction (timm's; 1.0, nothing cropped).
        crop_mode: timm's crop mode.
        fit: ``"pad"`` keeps the whole image and pads it with the background to the input's
            aspect; ``"crop"`` centre-crops it to that aspect.
        content_crop: Crop to the subject's bounding box first (Fashion-MNIST items).
        background: ``"dark"`` (light subject on black), ``"light"`` (dark on white) or
            ``None`` (natural images).
        invert: ``"auto"`` inverts an image whose background is the opposite of
            ``background``; ``"never"``.
        fill: Background value for padding, in [0, 1].
        data_profile: The data set the weights were trained for (a key of
            `alnumzoo.data.PROFILES`), which decides the default augmentation and test-time
            augmentation; kept when the head is replaced.
        recipe: The exact training recipe, value by value (``fit`` records it), or ``None``.
        metrics: Measured results, name to value (accuracies in percent).
        provenance: Where the weights came from: the training run (budget, steps, precision,
            device), the weights they were fine-tuned from, the library version.
    """

    input_size: tuple[int, int, int]
    fixed_input_size: bool
    num_classes: int
    label_names: tuple[str, ...] | None
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str = "bilinear"
    crop_pct: float = 1.0
    crop_mode: str = "center"
    fit: Fit = "crop"
    content_crop: bool = False
    background: Background = None
    invert: Invert = "never"
    fill: float = 0.5
    data_profile: str | None = None
    recipe: Mapping[str, Any] | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def seed(cls, model: _Shaped, data_profile: str | None = None) -> PretrainedCfg:
        """The record of a fresh ``model``: its shape, and the input contract of the data
        profile ``data_profile`` (default: that of its labels; natural images when they
        name no known data set)."""
        profile = PROFILES[data_profile] if data_profile in PROFILES else profile_of(model)
        return cls(
            input_size=(model.in_chans, 224, 224),
            fixed_input_size=False,
            num_classes=model.num_classes,
            label_names=None,
            mean=(0.0,) * model.in_chans,
            std=(1.0,) * model.in_chans,
            fit=profile.fit,
            content_crop=profile.content_crop,
            background=profile.background,
            invert="auto" if profile.background is not None else "never",
            fill={"dark": 0.0, "light": 1.0}.get(profile.background or "", 0.5),
            data_profile=profile.name if profile.name in PROFILES else None,
        ).for_model(model)

    def for_model(self, model: _Shaped) -> PretrainedCfg:
        """This record with ``model``'s current shape: input size, class count and labels
        (a new head or an adapted first conv changes them; the contract stays)."""
        c = model.in_chans
        h, w = model.input_size if model.input_size is not None else self.input_size[1:]
        same_channels = len(self.mean) == c and len(self.std) == c
        return dataclasses.replace(
            self,
            input_size=(c, int(h), int(w)),
            fixed_input_size=model.input_size is not None,
            num_classes=model.num_classes,
            label_names=tuple(model.labels.names) if model.labels is not None else None,
            mean=self.mean if same_channels else (0.0,) * c,
            std=self.std if same_channels else (1.0,) * c,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (timm's ``pretrained_cfg`` keys plus alnumzoo's); the inverse of
        [`from_dict`][alnumzoo.models.pretrained_cfg.PretrainedCfg.from_dict]."""
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        out["recipe"] = dict(self.recipe) if self.recipe is not None else None
        out["metrics"], out["provenance"] = dict(self.metrics), dict(self.provenance)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "pretrained_cfg") -> PretrainedCfg:
        """Read a record written by
        [`to_dict`][alnumzoo.models.pretrained_cfg.PretrainedCfg.to_dict] (or by an older
        alnumzoo, whose record lacks the newer keys), checking every value's
        type and range; keys it does not know (timm adds some) are ignored.

        Raises:
            ValueError: a value of the wrong type or out of range, naming the key and ``where``.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")

        def bad(key: str, expected: str) -> ValueError:
            return ValueError(f"{where}: {key!r} must be {expected}, got {str(data[key])[:80]}")

        def number(key: str, default: float, low: float, high: float) -> float:
            value = data.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad(key, f"a number in [{low}, {high}]")
            if not (math.isfinite(value) and low <= value <= high):
                raise bad(key, f"a number in [{low}, {high}]")
            return float(value)

        def choice(key: str, options: tuple[Any, ...], default: Any) -> Any:
            value = data.get(key, default)
            if value not in options:
                raise bad(key, f"one of {list(options)}")
            return value

        def floats(key: str) -> tuple[float, ...]:
            value = data.get(key, [])
            if not isinstance(value, list) or not 1 <= len(value) <= 64:
                raise bad(key, "a list of 1 to 64 numbers")
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
                raise bad(key, "a list of numbers")
            return tuple(float(v) for v in value)

        def mapping(key: str) -> dict[str, Any]:
            value = data.get(key) or {}
            if not isinstance(value, Mapping):
                raise bad(key, "an object")
            return dict(value)

        size = data.get("input_size")
        if (
            not isinstance(size, list)
            or len(size) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
        ):
            raise ValueError(f"{where}: 'input_size' must be 3 positive integers, got {size!r}")
        names = data.get("label_names")
        if names is not None and (
            not isinstance(names, list) or not all(isinstance(n, str) for n in names)
        ):
            raise bad("label_names", "a list of strings or null")
        num_classes = data.get("num_classes", len(names) if names is not None else 0)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
            raise bad("num_classes", "an integer of 0 or more")
        profile = data.get("data_profile")
        if profile is not None and not isinstance(profile, str):
            raise bad("data_profile", "a string or null")
        recipe = data.get("recipe")
        if recipe is not None and not isinstance(recipe, Mapping):
            raise bad("recipe", "an object or null")
        metrics = mapping("metrics")
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in metrics.values()
        ):
            raise bad("metrics", "an object of numbers")
        mean, std = floats("mean"), floats("std")
        if len(mean) != size[0] or len(std) != size[0]:
            raise ValueError(f"{where}: 'mean' and 'std' need one value per input channel")
        if not all(s > 0 for s in std):
            raise bad("std", "a list of positive numbers")
        text = {k: data.get(k, d) for k, d in (("interpolation", "bilinear"),
                                               ("crop_mode", "center"))}  # fmt: skip
        for key, value in text.items():
            if not isinstance(value, str):
                raise bad(key, "a string")
        content_crop = data.get("content_crop", False)
        if not isinstance(content_crop, bool):
            raise bad("content_crop", "true or false")
        return cls(
            input_size=(size[0], size[1], size[2]),
            fixed_input_size=bool(data.get("fixed_input_size", True)),
            num_classes=num_classes,
            label_names=tuple(names) if names is not None else None,
            mean=mean,
            std=std,
            interpolation=text["interpolation"],
            crop_pct=number("crop_pct", 1.0, 0.01, 1.0),
            crop_mode=text["crop_mode"],
            fit=cast(Fit, choice("fit", get_args(Fit), "crop")),
            content_crop=content_crop,
            background=cast(Background, choice("background", ("dark", "light", None), None)),
            invert=cast(Invert, choice("invert", get_args(Invert), "never")),
            fill=number("fill", 0.5, 0.0, 1.0),
            data_profile=profile,
            recipe=dict(recipe) if recipe is not None else None,
            metrics={k: float(v) for k, v in metrics.items()},
            provenance=mapping("provenance"),
        )
