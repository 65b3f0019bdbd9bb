"""predict(): labels and probabilities for tensors, PIL images or image files."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import nn

from alnumzoo.data.base import DatasetFormatError
from alnumzoo.data.image_files import open_image
from alnumzoo.data.transforms import ImageTransform, create_transform
from alnumzoo.inference.tta import predict_proba
from alnumzoo.models.classifier import as_classifier

__all__ = ["FIRST_BATCH", "ImageInput", "Prediction", "iter_predict", "load_image", "predict"]

#: One image for ``predict``: a file path, a PIL image, or a tensor ``(C, H, W)``.
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
    image: str | Path | Image.Image, model_or_cfg: Any
) -> tuple[torch.Tensor, tuple[str, ...]]:
    """Read an image and prepare it as the model expects
    ([`alnumzoo.create_transform`][alnumzoo.data.transforms.create_transform] of the model or its
    ``pretrained_cfg``, or that transform itself when many images share it): returns the float
    ``(C, H, W)`` tensor and notes saying what was converted.

    Raises:
        alnumzoo.data.DatasetFormatError: the file cannot be read as an image, is empty, is a
            decompression bomb or not a regular file (the message names it).
    """
    if isinstance(image, Image.Image):
        if image.width == 0 or image.height == 0:
            raise DatasetFormatError(f"the image is empty ({image.width}x{image.height})")
        pil = image
    else:
        pil = open_image(image)
    transform = (
        model_or_cfg if isinstance(model_or_cfg, ImageTransform) else create_transform(model_or_cfg)
    )
    try:
        return transform.apply(pil)
    except DatasetFormatError as exc:
        raise DatasetFormatError(
            f"{image if not isinstance(image, Image.Image) else 'image'}: {exc}"
        ) from exc


#: Images in the first batch `iter_predict` classifies (the rest come ``batch_size`` at a
#: time): the first answer of `alnumzoo predict FOLDER` then waits for 16 files, not 256.
FIRST_BATCH = 16


def _input_cfg(model: nn.Module) -> dict[str, Any]:
    """The model's ``pretrained_cfg``, or one made from its ``in_chans``/``input_size``."""
    described = as_classifier(model)
    if described is None:
        raise ValueError("the model declares no input_size; pass tensors instead")
    cfg = described.pretrained_cfg
    if "input_size" in cfg:
        return cfg
    size = described.input_size
    if size is None:
        raise ValueError("the model declares no input_size; pass tensors instead")
    return {"input_size": [described.in_chans, int(size[0]), int(size[1])]}


def image_mode(pil: Image.Image) -> str:
    """A readable name of a PIL mode (``"RGB"``, ``"grayscale"``...)."""
    return {"L": "grayscale", "1": "black-and-white"}.get(pil.mode, pil.mode)


def _folder_files(path: Path, recursive: bool) -> Iterator[Path]:
    """Image candidates under a folder, sorted, hidden names skipped; lazily, so a folder of
    thousands of files starts predicting at once."""
    entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
    for entry in entries:
        if entry.is_file():
            yield entry
        elif recursive and entry.is_dir() and not entry.is_symlink():
            yield from _folder_files(entry, recursive)


def _expand(
    images: ImageInput | Sequence[ImageInput], recursive: bool = False
) -> Iterator[ImageInput]:
    if isinstance(images, torch.Tensor):
        yield from (list(images) if images.dim() == 4 else [images])
        return
    if isinstance(images, str | Path):
        path = Path(images)
        if path.is_dir():
            found = False
            for file in _folder_files(path, recursive):
                found = True
                yield file
            if not found:
                hint = "" if recursive else " (recursive=True / --recursive descends into folders)"
                raise ValueError(f"{path} holds no image files{hint}")
            return
        yield path
        return
    if isinstance(images, Image.Image):
        yield images
        return
    for item in images:
        yield from _expand(item, recursive)


def _as_input(
    item: ImageInput, i: int, transform: Callable[[], ImageTransform]
) -> tuple[torch.Tensor, str, tuple[str, ...]]:
    if isinstance(item, torch.Tensor):
        t = item.float().div(255) if item.dtype == torch.uint8 else item.float()
        return t, f"tensor[{i}]", ()
    t, notes = load_image(item, transform())
    return t, item.as_posix() if isinstance(item, Path) else "PIL image", notes


@torch.no_grad()
def iter_predict(
    model: nn.Module,
    images: ImageInput | Sequence[ImageInput],
    *,
    topk: int = 1,
    tta: str | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    recursive: bool = False,
) -> Iterator[Prediction]:
    """[`predict`][alnumzoo.inference._predict.predict], one batch at a time: images are read,
    classified and yielded ``batch_size`` at a time (the first `FIRST_BATCH` on their own), so
    memory stays bounded and the first answers come at once however many files a folder
    holds."""
    described = as_classifier(model)
    labels = described.labels if described is not None else None
    # One transform for every file: building it reads the model's whole record, which per
    # image cost 0.8 ms, more than decoding a small PNG.
    transform = functools.cache(lambda: create_transform(_input_cfg(model)))
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    pending: list[tuple[torch.Tensor, str, tuple[str, ...]]] = []
    first = True
    shape: tuple[int, ...] | None = None
    was_training = model.training
    model.eval()
    try:
        for i, item in enumerate(_expand(images, recursive)):
            prepared = _as_input(item, i, transform)
            if shape is None:
                shape = tuple(prepared[0].shape)
                if described is not None:
                    described.check_input(prepared[0].unsqueeze(0))
            elif tuple(prepared[0].shape) != shape:
                raise ValueError(
                    f"images have different shapes {sorted({shape, tuple(prepared[0].shape)})}; "
                    "expected one shape"
                )
            pending.append(prepared)
            # The first batch is small, so the first answers come before a whole batch of
            # files has been read.
            if len(pending) == (min(batch_size, FIRST_BATCH) if first else batch_size):
                yield from _classify(model, pending, labels, topk, tta, dev)
                pending, first = [], False
        if pending:
            yield from _classify(model, pending, labels, topk, tta, dev)
    finally:
        model.train(was_training)


def _classify(
    model: nn.Module,
    pending: list[tuple[torch.Tensor, str, tuple[str, ...]]],
    labels: Any,
    topk: int,
    tta: str | None,
    dev: torch.device,
) -> Iterator[Prediction]:
    batch = torch.stack([t for t, _, _ in pending]).to(dev)
    probs = predict_proba(model, batch, tta).cpu()
    k = min(topk, probs.shape[1])
    values, indices = probs.topk(k, dim=1)
    names = labels.names if labels is not None else tuple(str(i) for i in range(probs.shape[1]))
    for val, idx, (_, src, note) in zip(values, indices, pending, strict=True):
        yield Prediction(
            label=names[int(idx[0])],
            index=int(idx[0]),
            probability=float(val[0]),
            topk=tuple((names[int(j)], float(v)) for v, j in zip(val, idx, strict=True)),
            source=src,
            notes=note,
        )


def predict(
    model: nn.Module,
    images: ImageInput | Sequence[ImageInput],
    *,
    topk: int = 1,
    tta: str | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    recursive: bool = False,
) -> list[Prediction]:
    """Classify images with ``model``.

    Args:
        model: A classifier; alnumzoo models supply their labels, input size and channels.
        images: A path (file or folder), PIL image, tensor ``(C, H, W)`` or ``(N, C, H, W)``
            (float in [0, 1] or ``uint8``), or a list of these. Files and PIL images are
            prepared by the model's preprocessing contract
            ([`alnumzoo.create_transform`][alnumzoo.data.transforms.create_transform]: EXIF
            orientation, bit depth, transparency onto the model's background, inversion of an
            opposite background, aspect-preserving fit), and the prediction's ``notes`` say what was
            done; tensors must already be model input.
        topk: How many ``(label, probability)`` pairs to return per image.
        tta: Test-time augmentation (see
            [`alnumzoo.inference.predict_proba`][alnumzoo.inference.tta.predict_proba]).
        batch_size: Images per forward pass (and read ahead: memory grows with it, not with the
            number of images).
        device: Where to run; defaults to the model's device.
        recursive: Descend into sub-folders of a folder (e.g. one folder per class).

    Raises:
        ValueError: an unreadable image, or a tensor of the wrong shape.
    """
    return list(
        iter_predict(
            model,
            images,
            topk=topk,
            tta=tta,
            batch_size=batch_size,
            device=device,
            recursive=recursive,
        )
    )
