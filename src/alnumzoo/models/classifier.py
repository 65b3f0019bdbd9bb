"""The Classifier protocol: what alnumzoo reads from a model beyond ``nn.Module``.

Every alnumzoo model is one. ``fit``, ``evaluate`` and ``predict`` also take plain PyTorch
modules: [`as_classifier`][alnumzoo.models.classifier.as_classifier] tells the two apart once,
and the code then reads typed attributes instead of guessing with ``getattr``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from alnumzoo.labels import LabelMap

__all__ = ["Classifier", "as_classifier"]


@runtime_checkable
class Classifier(Protocol):
    """A module that says what it classifies and what input it takes.

    Attributes:
        arch: Registry name of the architecture.
        num_classes: Number of output logits.
        in_chans: Input channels.
        input_size: ``(H, W)`` the model is built for, or ``None`` for any size.
        labels: Class names of the outputs, or ``None``.
    """

    arch: str
    num_classes: int
    in_chans: int
    input_size: tuple[int, int] | None
    labels: LabelMap | None

    @property
    def pretrained_cfg(self) -> dict[str, Any]:
        """How images must be prepared for the model (timm's vocabulary)."""

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` unless ``x`` is a batch the model can classify."""


def as_classifier(model: nn.Module) -> Classifier | None:
    """``model`` as a [`Classifier`][alnumzoo.models.classifier.Classifier], or ``None`` for a
    plain module that does not describe itself."""
    return model if isinstance(model, Classifier) else None
