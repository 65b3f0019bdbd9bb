"""In-memory image data sets: uint8 tensors plus labels, served as float images in [0, 1]."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import torch
from torch.utils.data import Dataset

from alnumzoo.labels import LabelMap

__all__ = [
    "DatasetFormatError",
    "InMemoryImageDataset",
    "SizedDataset",
    "check_targets",
    "read_regular_file",
    "require_dir",
]


_ItemT = TypeVar("_ItemT", covariant=True)


@runtime_checkable
class SizedDataset(Protocol[_ItemT]):
    """A map-style data set that knows its length: what `fit`, `evaluate` and the loaders
    take. ``torch.utils.data.Dataset`` leaves ``__len__`` optional; every data set here and
    ``TensorDataset``, ``Subset`` and torchvision's have it."""

    def __getitem__(self, index: int) -> _ItemT: ...

    def __len__(self) -> int: ...


class DatasetFormatError(ValueError):
    """A data set root is missing or not laid out as expected; the message says what and where."""


def read_regular_file(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of ``path``, read only if it is a regular file of at most ``max_bytes``.

    The file is opened non-blocking and checked with ``fstat`` on the open descriptor, so a
    FIFO cannot hang the reader, a device such as ``/dev/zero`` (directly or through a
    symlink) cannot feed it without end, and the size is known before anything is read.

    Raises:
        DatasetFormatError: not a regular file, too large, or unreadable; the message names
            the file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise DatasetFormatError(f"{path}: cannot open ({exc.strerror})") from exc
    # Checked before fdopen: fdopen refuses a directory with a message naming the descriptor.
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise DatasetFormatError(f"{path}: expected a regular file, found a directory")
        if not stat.S_ISREG(info.st_mode):
            raise DatasetFormatError(f"{path}: expected a regular file, found a special file")
        if info.st_size > max_bytes:
            raise DatasetFormatError(
                f"{path}: {info.st_size:,} bytes is over the {max_bytes:,}-byte limit for this "
                "kind of file"
            )
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while being read
        raise DatasetFormatError(f"{path}: grew past the {max_bytes:,}-byte limit while read")
    return data


def require_dir(path: Path, what: str) -> Path:
    """Return ``path`` if it is a directory, else raise
    [`DatasetFormatError`][alnumzoo.data.base.DatasetFormatError] naming ``what`` (the layout that
    was expected there)."""
    if not path.is_dir():
        raise DatasetFormatError(f"expected {what} at {path}, but there is no such directory")
    return path


def check_targets(targets: torch.Tensor, num_classes: int | None, where: str) -> None:
    """Refuse class indices outside ``[0, num_classes)`` with a message naming one, before a
    loss turns them into an index error or NaN (labels such as -1 or -100 mean "ignore" to
    some libraries, and nothing to a classifier).

    Raises:
        ValueError: a label is out of range (``num_classes=None`` only checks for negatives).
    """
    if targets.numel() == 0:
        return
    low, high = int(targets.min()), int(targets.max())
    if low < 0 or (num_classes is not None and high >= num_classes):
        bad = low if low < 0 else high
        bound = f"[0, {num_classes})" if num_classes is not None else "[0, number of classes)"
        raise ValueError(f"label {bad} in the {where} is outside {bound}")


class InMemoryImageDataset(Dataset[tuple[torch.Tensor, int]]):
    """A data set held as one ``uint8`` tensor ``(N, C, H, W)`` with ``int64`` targets.

    Indexing returns ``(image, label)`` with the image as ``float32`` in [0, 1], as the
    reports' loaders produced it, optionally passed through ``transform``. The raw tensors are
    exposed as `images` and `targets` for
    [`alnumzoo.data.DeviceLoader`][alnumzoo.data.loaders.DeviceLoader], which moves them to
    the training device once and augments whole batches there.

    Args:
        images: ``uint8`` tensor ``(N, C, H, W)``.
        targets: Class indices ``(N,)``.
        labels: The label map of the classes.
        transform: Optional callable applied to each float image.
    """

    def __init__(
        self,
        images: torch.Tensor,
        targets: torch.Tensor,
        labels: LabelMap,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(
                f"expected uint8 images of shape (N, C, H, W), got {images.dtype} "
                f"{tuple(images.shape)}"
            )
        if targets.shape != (images.shape[0],):
            raise ValueError(
                f"expected {images.shape[0]} targets, got shape {tuple(targets.shape)}"
            )
        if len(targets) and (int(targets.min()) < 0 or int(targets.max()) >= len(labels)):
            raise ValueError(f"targets must lie in [0, {len(labels)}), the label map's range")
        self.images = images
        self.targets = targets.long()
        self.labels = labels
        self.transform = transform

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index].float().div_(255)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])

    def subset(self, indices: torch.Tensor) -> InMemoryImageDataset:
        """A new data set holding the rows ``indices`` (sharing no storage with this one)."""
        return InMemoryImageDataset(
            self.images[indices].clone(), self.targets[indices].clone(), self.labels, self.transform
        )

    def select_classes(self, names: Sequence[str]) -> InMemoryImageDataset:
        """The images of the classes ``names`` only, relabelled ``0 .. len(names) - 1`` in the
        order given, with the matching `LabelMap.subset` (whose data profile is this set's):
        the data for a model with a new head, e.g. two of CIFAR-10's classes.

        Raises:
            KeyError: a name is not one of this set's classes.
        """
        labels = self.labels.subset(names)
        chosen = torch.tensor(self.labels.encode(names), dtype=torch.long)
        relabel = torch.full((len(self.labels),), -1, dtype=torch.long)
        relabel[chosen] = torch.arange(len(chosen))
        rows = torch.isin(self.targets, chosen).nonzero()[:, 0]
        return InMemoryImageDataset(
            self.images[rows].clone(), relabel[self.targets[rows]], labels, self.transform
        )

    def class_counts(self) -> list[int]:
        """Number of images per class, in label order."""
        return [int(c) for c in torch.bincount(self.targets, minlength=len(self.labels))]
