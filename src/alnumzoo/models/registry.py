"""Model registry: stable names for architectures (``arch``) and pretrained variants
(``arch.tag``), with the metadata a user needs to choose one."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from torch import nn

from alnumzoo.labels import LabelMap

__all__ = [
    "HubWeights",
    "ModelEntry",
    "TimmPretrained",
    "build_model",
    "get_model_entry",
    "list_models",
    "on_register",
    "register_model",
]


@dataclass(frozen=True)
class HubWeights:
    """Published weights of a registry entry, pinned to an exact file.

    Attributes:
        repo_id: Hugging Face Hub repository (``org/name``).
        revision: The Hub revision the file is read from: a 40-hex commit once uploaded
            (``"main"`` until then; the sha256 pins the content either way).
        sha256: Full sha256 of the weights file, checked on every load.
        filename: Weights file in the repository.
        embedded: The package is built with a copy (``alnumzoo/weights/<name>/``): where that
            copy is present, loading reads it (with the same sha256 checks) and needs no
            network; where it is missing, the pinned revision is downloaded as usual.
        config_sha256: sha256 of the ``config.json`` published with the weights, checked on
            every load, so the labels and constructor arguments are pinned with the weights.
    """

    repo_id: str
    revision: str
    sha256: str
    filename: str = "model.safetensors"
    embedded: bool = False
    config_sha256: str | None = None


@dataclass(frozen=True)
class TimmPretrained:
    """Weights that timm itself loads (``pretrained=True``), e.g. ImageNet starting points.

    Attributes:
        hf_id: timm's Hub id of the weights.
    """

    hf_id: str


@dataclass(frozen=True)
class ModelEntry:
    """Everything the registry knows about one architecture or pretrained variant.

    Attributes:
        name: Registry name, ``arch`` or ``arch.tag``.
        builder: Callable that builds the model from keyword arguments.
        task: What the model classifies (e.g. ``"alnum52 characters"``).
        input_size: ``(C, H, W)`` the model expects.
        num_classes: Outputs of the default build.
        labels: Class names of the default build, if known.
        num_params: Parameter count of the default build (checked against the model in tests).
        source: The course report the architecture comes from.
        description: One-line summary.
        kwargs: Constructor arguments this entry applies by default.
        metrics: Accuracies keyed by metric name (``"report_top1"``: the report's figure;
            measured figures are added by the entries that ship weights).
        weights: [`HubWeights`][alnumzoo.models.registry.HubWeights],
            [`TimmPretrained`][alnumzoo.models.registry.TimmPretrained], or ``None`` when no weights
            are published.
        training: How shipped weights were trained and measured (recipe, budget, device,
            held-out split, command...).
    """

    name: str
    builder: Callable[..., nn.Module]
    task: str
    input_size: tuple[int, int, int]
    num_classes: int
    labels: LabelMap | None
    num_params: int
    source: str
    description: str = ""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    weights: HubWeights | TimmPretrained | None = None
    training: Mapping[str, Any] = field(default_factory=dict)

    @property
    def arch(self) -> str:
        """Architecture part of the name."""
        return self.name.split(".", 1)[0]

    @property
    def tag(self) -> str | None:
        """Variant part of the name (``None`` for a bare architecture)."""
        parts = self.name.split(".", 1)
        return parts[1] if len(parts) == 2 else None

    @property
    def has_weights(self) -> bool:
        """Whether pretrained weights are published for this entry."""
        return self.weights is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata (no builder)."""
        return {
            "name": self.name,
            "arch": self.arch,
            "tag": self.tag,
            "task": self.task,
            "input_size": list(self.input_size),
            "num_classes": self.num_classes,
            "labels": self.labels.to_dict() if self.labels else None,
            "num_params": self.num_params,
            "source": self.source,
            "description": self.description,
            "kwargs": dict(self.kwargs),
            "metrics": dict(self.metrics),
            "has_weights": self.has_weights,
            "training": dict(self.training),
        }


_REGISTRY: dict[str, ModelEntry] = {}
_LISTENERS: list[Callable[[ModelEntry], None]] = []


def on_register(callback: Callable[[ModelEntry], None]) -> None:
    """Call ``callback`` with every registered entry: those registered already, now, and each
    one registered later (timm's view of the zoo stays in step this way, whenever a module
    registers an architecture)."""
    _LISTENERS.append(callback)
    for entry in list(_REGISTRY.values()):
        callback(entry)


def register_model(entry: ModelEntry) -> ModelEntry:
    """Add ``entry`` to the registry and return it.

    Raises:
        ValueError: the name is taken or malformed.
    """
    if entry.name in _REGISTRY:
        raise ValueError(f"a model named {entry.name!r} is already registered")
    if entry.name.count(".") > 1 or not all(entry.name.split(".")):
        raise ValueError(f"model names are 'arch' or 'arch.tag', got {entry.name!r}")
    object.__setattr__(entry, "kwargs", MappingProxyType(dict(entry.kwargs)))
    _REGISTRY[entry.name] = entry
    for callback in _LISTENERS:
        callback(entry)
    return entry


def get_model_entry(name: str) -> ModelEntry:
    """Registry entry called ``name``.

    Raises:
        KeyError: unknown name; the message suggests close matches.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(
            f"unknown model {name!r}{hint} (alnumzoo.list_models() lists them all)"
        ) from None


def list_models(pattern: str | None = None, *, pretrained: bool = False) -> list[str]:
    """Sorted registry names, optionally filtered.

    Args:
        pattern: Shell-style wildcard (``"*cnn*"``); matched case-insensitively.
        pretrained: Only entries with published weights.
    """
    names = sorted(_REGISTRY)
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n.lower(), pattern.lower())]
    if pretrained:
        names = [n for n in names if _REGISTRY[n].has_weights]
    return names


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """Build the (untrained) model registered as ``name``: the registry's half of
    ``alnumzoo.create_model``, which adds ``pretrained=True`` (the one public factory).

    Args:
        name: An architecture (``"lite_resnet"``) or variant (``"lite_resnet.alnum52"``).
        **kwargs: Constructor arguments overriding the entry's defaults.

    Raises:
        KeyError: unknown name.
    """
    entry = get_model_entry(name)
    return entry.builder(**{**entry.kwargs, **kwargs})
