"""Test-time augmentation: average the class probabilities of a few views of each image."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from alnumzoo.data.profiles import profile_for, profile_of
from alnumzoo.inference.calibration import calibrated_probabilities
from alnumzoo.labels import LabelMap

__all__ = ["auto_tta", "default_tta", "predict_proba", "tta_mode", "tta_views"]

_CROP_VIEWS = 10


def default_tta(labels: LabelMap | None) -> str | None:
    """The TTA mode for a data set's label map, or ``None`` when none is known to be safe."""
    return profile_for(labels).tta


def auto_tta(model: nn.Module, labels: LabelMap | None = None) -> str | None:
    """What ``tta="auto"`` means for ``model``: the test-time views its training run used
    when its record names them (``fit`` writes them: none after a run that did not augment,
    since a model never shown a mirror reads mirrors worse), otherwise the default of the
    data its weights were trained on (see `alnumzoo.data.profile_of`)."""
    record = getattr(model, "record", None)
    trained = getattr(record, "recipe", None) or {}
    if trained.get("tta", "auto") != "auto":
        return tta_mode(trained["tta"])
    return profile_of(model, labels).tta


def tta_mode(mode: str | None) -> str | None:
    """``mode`` with ``"none"`` spelled as ``None`` (the CLI's and the Python API's spelling
    of "no test-time augmentation" mean the same).

    Raises:
        ValueError: an unknown mode.
    """
    if mode == "none":
        return None
    if mode not in (None, "flip", "shift", "crops"):
        raise ValueError(
            f"unknown TTA mode {mode!r}; expected None/'none', 'flip', 'shift' or 'crops'"
        )
    return mode


def tta_views(mode: str | None) -> int:
    """Forward passes one image costs under ``mode``."""
    return {None: 1, "flip": 2, "shift": 5, "crops": _CROP_VIEWS}[tta_mode(mode)]


def _shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    h, w = x.shape[-2:]
    return padded[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]


def _crop(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    h, w = x.shape[-2:]
    scale = float(torch.empty(1).uniform_(0.8, 1.0, generator=generator))
    ch, cw = max(1, round(h * scale)), max(1, round(w * scale))
    top = int(torch.randint(0, h - ch + 1, (1,), generator=generator))
    left = int(torch.randint(0, w - cw + 1, (1,), generator=generator))
    patch = x[..., top : top + ch, left : left + cw]
    return F.interpolate(patch, size=(h, w), mode="bilinear", align_corners=False)


@torch.no_grad()
def predict_proba(model: nn.Module, x: torch.Tensor, mode: str | None = None) -> torch.Tensor:
    """Class probabilities of a float batch ``x``, averaged over the views of ``mode``.

    Modes: ``None`` (the image), ``"flip"`` (image and mirror), ``"shift"`` (image and four
    one-pixel shifts, edges replicated), ``"crops"`` (ten seeded random crops of 80–100% of the
    side, resized back; report 003). Each view's probabilities carry the model's calibration
    (its ``temperature`` and ``undo_smoothing``; none when it has none).

    Raises:
        ValueError: unknown mode.
    """
    mode = tta_mode(mode)
    temperature = float(getattr(model, "temperature", 1.0))
    undo_smoothing = float(getattr(model, "undo_smoothing", 0.0))
    if mode is None:
        return calibrated_probabilities(model(x), temperature, undo_smoothing)
    if mode == "flip":
        views = [x, x.flip(-1)]
    elif mode == "shift":
        views = [x] + [_shift(x, dy, dx) for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0))]
    else:  # "crops"
        generator = torch.Generator().manual_seed(0)
        views = [_crop(x, generator) for _ in range(_CROP_VIEWS)]
    total = torch.zeros(())
    for view in views:
        total = total + calibrated_probabilities(model(view), temperature, undo_smoothing)
    return total / len(views)
