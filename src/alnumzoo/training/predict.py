"""predict(): labels and probabilities for tensors, PIL images or image files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from alnumzoo.data.base import DatasetFormatError
from alnumzoo.data.image_files import open_image, to_8bit
from alnumzoo.training.tta import predict_proba

__all__ = ["ImageInput", "Prediction", "load_image", "predict"]

#: One image for :func:`predict`: a file path, a PIL image, or a tensor ``(C, H, W)``.
ImageInput = str | Path | Image.Image | torch.Tensor


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one image.

    Attributes:
        label: The top class name (the character itself for alnum52 models).
        index: The top class index.
        probability: Its probability.
        topk: ``(label, probability)`` pairs, most likely first.
        source: Where the image came from (path, ``"PIL image"`` or ``"tensor[i]"``).
        notes: Conversions applied to fit the model's input (resizing, grayscale...).
    """

    label: str
    index: int
    probability: float
    topk: tuple[tuple[str, float], ...]
    source: str
    notes: tuple[str, ...] = ()


def load_image(
    image: str | Path | Image.Image, in_chans: int, size: tuple[int, int]
) -> tuple[torch.Tensor, tuple[str, ...]]:
    """Read an image as the reports' loaders produced it: float ``(C, H, W)`` in [0, 1] at
    ``size``, converting colour mode and size where that is safe; returns the tensor and notes
    saying what was converted.

    Raises:
        alnumzoo.data.DatasetFormatError: the file cannot be read as an image, is empty, is a
            decompression bomb or not a regular file (the message names it).
    """
    notes: list[str] = []
    if not isinstance(image, Image.Image):
        pil = open_image(image)
    else:
        if image.width == 0 or image.height == 0:
            raise DatasetFormatError(f"the image is empty ({image.width}x{image.height})")
        pil = image
    if pil.mode in ("I", "F") or pil.mode.startswith("I;16"):
        notes.append(f"scaled {pil.mode} pixels to 8 bits")
        pil = to_8bit(pil, str(image) if not isinstance(image, Image.Image) else "image")
    mode = "L" if in_chans == 1 else "RGB"
    if pil.mode != mode:
        if pil.mode in ("RGBA", "LA", "P"):
            # Transparent pixels become white, the background of the rendered characters.
            background = Image.new("RGBA", pil.size, (255, 255, 255, 255))
            pil = Image.alpha_composite(background, pil.convert("RGBA"))
        notes.append(f"converted {image_mode(pil)} to {'grayscale' if mode == 'L' else 'RGB'}")
        pil = pil.convert(mode)
    h, w = size
    if pil.size != (w, h):
        notes.append(f"resized {pil.size[0]}x{pil.size[1]} to {w}x{h}")
        pil = pil.resize((w, h), Image.Resampling.BILINEAR)
    array = np.asarray(pil, dtype=np.uint8)
    tensor = torch.from_numpy(array.copy()).float().div_(255)
    tensor = tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
    return tensor, tuple(notes)


def image_mode(pil: Image.Image) -> str:
    """A readable name of a PIL mode (``"RGB"``, ``"grayscale"``...)."""
    return {"L": "grayscale", "1": "black-and-white"}.get(pil.mode, pil.mode)


def _expand(images: ImageInput | Sequence[ImageInput]) -> list[ImageInput]:
    if isinstance(images, torch.Tensor):
        return list(images) if images.dim() == 4 else [images]
    if isinstance(images, str | Path):
        path = Path(images)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not files:
                raise ValueError(f"{path} holds no image files")
            return list(files)
        return [path]
    if isinstance(images, Image.Image):
        return [images]
    out: list[ImageInput] = []
    for item in images:
        out.extend(_expand(item))
    return out


@torch.no_grad()
def predict(
    model: nn.Module,
    images: ImageInput | Sequence[ImageInput],
    *,
    topk: int = 1,
    tta: str | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
) -> list[Prediction]:
    """Classify images with ``model``.

    Args:
        model: A classifier; alnumzoo models supply their labels, input size and channels.
        images: A path (file or folder), PIL image, tensor ``(C, H, W)`` or ``(N, C, H, W)``
            (float in [0, 1] or ``uint8``), or a list of these. Files and PIL images are
            converted to the model's channels and resized to its input size, and the
            prediction's ``notes`` say so; tensors must already have the right shape.
        topk: How many ``(label, probability)`` pairs to return per image.
        tta: Test-time augmentation (see :func:`alnumzoo.training.predict_proba`).
        batch_size: Images per forward pass.
        device: Where to run; defaults to the model's device.

    Raises:
        ValueError: an unreadable image, or a tensor of the wrong shape.
    """
    in_chans = int(getattr(model, "in_chans", 1))
    size = tuple(getattr(model, "input_size", (0, 0)))
    labels = getattr(model, "labels", None)
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    tensors: list[torch.Tensor] = []
    sources: list[str] = []
    notes: list[tuple[str, ...]] = []
    for i, item in enumerate(_expand(images)):
        if isinstance(item, torch.Tensor):
            t = item.float().div(255) if item.dtype == torch.uint8 else item.float()
            tensors.append(t)
            sources.append(f"tensor[{i}]")
            notes.append(())
        else:
            if size == (0, 0):
                raise ValueError("the model declares no input_size; pass tensors instead")
            t, n = load_image(item, in_chans, (int(size[0]), int(size[1])))
            tensors.append(t)
            sources.append(item.as_posix() if isinstance(item, Path) else "PIL image")
            notes.append(n)
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"images have different shapes {sorted(shapes)}; expected one shape")
    check = getattr(model, "check_input", None)
    batch = torch.stack(tensors)
    if check is not None:
        check(batch[:1])
    was_training = model.training
    model.eval()
    try:
        probs = torch.cat(
            [
                predict_proba(model, batch[i : i + batch_size].to(dev), tta).cpu()
                for i in range(0, len(batch), batch_size)
            ]
        )
    finally:
        model.train(was_training)
    k = min(topk, probs.shape[1])
    values, indices = probs.topk(k, dim=1)
    names = labels.names if labels is not None else tuple(str(i) for i in range(probs.shape[1]))
    return [
        Prediction(
            label=names[int(idx[0])],
            index=int(idx[0]),
            probability=float(val[0]),
            topk=tuple((names[int(j)], float(v)) for v, j in zip(val, idx, strict=True)),
            source=src,
            notes=note,
        )
        for val, idx, src, note in zip(values, indices, sources, notes, strict=True)
    ]
