"""Turn any image into the input a model was trained on, following its ``pretrained_cfg``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from PIL import Image, ImageOps

from alnumzoo.data.image_files import to_8bit

__all__ = ["ImageTransform", "create_transform", "crop_to_ink", "fill_frame"]

# A pixel belongs to the subject when it differs from the background by more than this
# (in 0-255 levels): above JPEG noise, below faint strokes.
_SUBJECT_THRESHOLD = 40
# The border ring whose median is the background estimate, as a share of the short side.
_BORDER = 0.04


class _HasCfg(Protocol):
    @property
    def pretrained_cfg(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ImageTransform:
    """A preprocessing pipeline built by
    [`create_transform`][alnumzoo.data.transforms.create_transform].

    Calling it on a PIL image returns a float tensor ``(C, H, W)`` in [0, 1] (normalised with
    the config's mean and std); [`apply`][alnumzoo.data.transforms.ImageTransform.apply] also
    returns notes saying what was done.

    Attributes:
        cfg: The ``pretrained_cfg`` it follows.
    """

    cfg: Mapping[str, Any]

    def __call__(self, image: Image.Image) -> torch.Tensor:
        return self.apply(image)[0]

    def apply(self, image: Image.Image) -> tuple[torch.Tensor, tuple[str, ...]]:
        """The model input for ``image`` and notes on each conversion applied:

        EXIF orientation; 16-bit and float pixels scaled to 8 bits; transparency composited
        onto the model's background colour; colour mode; inversion when the image's background
        (the median of its border) is the opposite of the model's; a crop to the subject for
        data sets whose images were made that way; aspect-preserving fit (pad with the
        background, or centre-crop for natural images); resize.
        """
        cfg = self.cfg
        notes: list[str] = []
        c, h, w = (int(v) for v in cfg["input_size"])
        mode = "L" if c == 1 else "RGB"
        oriented = ImageOps.exif_transpose(image)
        if oriented.size != image.size or oriented.getexif() != image.getexif():
            notes.append("applied the EXIF orientation")
        image = oriented
        if image.mode in ("I", "F") or image.mode.startswith("I;16"):
            notes.append(f"scaled {image.mode} pixels to 8 bits")
            image = to_8bit(image)
        fill = float(cfg.get("fill", 0.0))
        background = cfg.get("background")
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            colour = round(255 * fill)
            base = Image.new("RGBA", image.size, (colour, colour, colour, 255))
            image = Image.alpha_composite(base, image.convert("RGBA"))
            notes.append(
                f"composited transparency onto the model's {background or 'grey'} background"
            )
        if image.mode != mode:
            notes.append(f"converted {image.mode} to {'grayscale' if mode == 'L' else 'RGB'}")
            image = image.convert(mode)
        pixels = np.asarray(image, dtype=np.uint8)
        grey = pixels if pixels.ndim == 2 else pixels.mean(axis=2)
        border = _border_median(grey)
        if cfg.get("invert") == "auto" and background is not None:
            is_light = border >= 128
            if is_light != (background == "light"):
                pixels = 255 - pixels
                grey = 255 - grey
                border = 255 - border
                notes.append(
                    f"inverted: a {'light' if is_light else 'dark'} background on a model "
                    f"trained on {background} backgrounds"
                )
        # An image already at the input size is taken as framed (it is most likely from the
        # data set itself); only other images are cropped to their subject.
        if cfg.get("content_crop") and (pixels.shape[1], pixels.shape[0]) != (w, h):
            box = _subject_box(grey, border)
            if box is not None and box != (0, 0, grey.shape[1], grey.shape[0]):
                left, top, right, bottom = box
                pixels = pixels[top:bottom, left:right]
                notes.append(f"cropped to the subject ({right - left}x{bottom - top})")
        image = Image.fromarray(pixels)
        if image.size != (w, h):
            image = _fit(image, (w, h), cfg.get("fit", "crop"), round(255 * fill), notes)
        array = np.asarray(image, dtype=np.float32) / 255.0
        tensor = torch.from_numpy(array.copy())
        tensor = tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
        mean = torch.tensor(cfg.get("mean", [0.0] * c), dtype=torch.float32).view(-1, 1, 1)
        std = torch.tensor(cfg.get("std", [1.0] * c), dtype=torch.float32).view(-1, 1, 1)
        return (tensor - mean) / std, tuple(notes)


def _border_median(grey: np.ndarray) -> float:
    h, w = grey.shape
    k = max(1, round(_BORDER * min(h, w)))
    ring = np.concatenate(
        [grey[:k].ravel(), grey[-k:].ravel(), grey[:, :k].ravel(), grey[:, -k:].ravel()]
    )
    return float(np.median(ring))


def _subject_box(grey: np.ndarray, background: float) -> tuple[int, int, int, int] | None:
    mask = np.abs(grey.astype(np.float32) - background) > _SUBJECT_THRESHOLD
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _fit(
    image: Image.Image, size: tuple[int, int], fit: str, fill: int, notes: list[str]
) -> Image.Image:
    w, h = size
    src_w, src_h = image.size
    if fit == "pad":
        scale = min(w / src_w, h / src_h)
        new = (max(1, round(src_w * scale)), max(1, round(src_h * scale)))
        resized = image.resize(new, Image.Resampling.BILINEAR, reducing_gap=3.0)
        canvas = Image.new(image.mode, (w, h), fill if image.mode == "L" else (fill,) * 3)
        canvas.paste(resized, ((w - new[0]) // 2, (h - new[1]) // 2))
        padded = f" and padded to {w}x{h}" if new != (w, h) else ""
        notes.append(f"resized {src_w}x{src_h} to {new[0]}x{new[1]}{padded}")
        return canvas
    # Crop the source to the target's aspect first, then resize only that: resizing first
    # would blow a 1,000,000x1 strip up to 32,000,000x32 pixels before cropping.
    keep_w = min(src_w, max(1, round(src_h * w / h)))
    keep_h = min(src_h, max(1, round(src_w * h / w)))
    left, top = (src_w - keep_w) // 2, (src_h - keep_h) // 2
    cropped = image.crop((left, top, left + keep_w, top + keep_h))
    notes.append(f"centre-cropped {src_w}x{src_h} to {keep_w}x{keep_h} and resized to {w}x{h}")
    return cropped.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=3.0)


def fill_frame(grey: np.ndarray, margin: float = 0.04) -> np.ndarray:
    """One ``uint8`` ``(H, W)`` image cropped to its subject and scaled, aspect kept, until its
    longer side spans the frame less ``margin`` of it at each end; the rest is the background
    (the median of the border). An image without a subject is returned unchanged.
    """
    h, w = grey.shape
    background = _border_median(grey)
    box = _subject_box(grey, background)
    if box is None:
        return grey
    left, top, right, bottom = box
    inner = (max(1, round(w * (1 - 2 * margin))), max(1, round(h * (1 - 2 * margin))))
    fill = round(background)
    subject = _fit(Image.fromarray(grey[top:bottom, left:right]), inner, "pad", fill, [])
    canvas = Image.new("L", (w, h), fill)
    canvas.paste(subject, ((w - inner[0]) // 2, (h - inner[1]) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def crop_to_ink(images: torch.Tensor, margin: float = 0.04) -> torch.Tensor:
    """[`fill_frame`][alnumzoo.data.transforms.fill_frame] applied to every image of a
    ``uint8`` ``(N, 1, H, W)`` batch: characters as a tight crop from a scan would give them."""
    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"expected uint8 (N, 1, H, W) images, got {images.dtype} {images.shape}")
    out = np.stack([fill_frame(im, margin) for im in images[:, 0].numpy()])
    return torch.from_numpy(out).unsqueeze(1)


def create_transform(model_or_cfg: _HasCfg | Mapping[str, Any]) -> ImageTransform:
    """The preprocessing a model expects, from the model or its ``pretrained_cfg``.

    Example:
        ```python
        import alnumzoo
        from PIL import Image

        model = alnumzoo.from_pretrained("crnn.fashion_mnist")
        transform = alnumzoo.create_transform(model)
        x = transform(Image.open("boot.jpg"))  # (1, 28, 28), inverted, cropped, padded
        ```

    Raises:
        ValueError: the config has no ``input_size``.
    """
    cfg = model_or_cfg if isinstance(model_or_cfg, Mapping) else model_or_cfg.pretrained_cfg
    if "input_size" not in cfg:
        raise ValueError("a pretrained_cfg needs 'input_size' (C, H, W)")
    return ImageTransform(dict(cfg))
