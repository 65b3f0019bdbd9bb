"""CIFAR-10 from an image-folder layout (folder or ``.tar``) or torchvision's files."""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from alnumzoo.data.base import DatasetFormatError, InMemoryImageDataset, read_regular_file
from alnumzoo.data.image_files import MAX_IMAGE_BYTES, decode_image, to_8bit
from alnumzoo.labels import CIFAR10

__all__ = ["Cifar10"]

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def _decode(data: bytes, where: str) -> np.ndarray:
    return np.asarray(to_8bit(decode_image(data, where), where).convert("RGB"))


def _folder_members(root: Path, split: str) -> Iterator[tuple[str, str, bytes]]:
    base = root / split
    if not base.is_dir():
        raise DatasetFormatError(f"expected {split}/<class>/*.jpg under {root}")
    for class_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() in _IMAGE_SUFFIXES:
                yield class_dir.name, str(file), read_regular_file(file, MAX_IMAGE_BYTES)


def _tar_members(archive: Path, split: str) -> Iterator[tuple[str, str, bytes]]:
    try:
        with tarfile.open(archive) as tar:
            for member in sorted(tar.getmembers(), key=lambda m: m.name):
                parts = Path(member.name).parts
                parts = parts[1:] if parts and parts[0] == "." else parts
                # Accept <split>/<class>/<file> at the top level or under one wrapper folder.
                if len(parts) > 3 and parts[1] == split:
                    parts = parts[1:]
                if (
                    member.isfile()
                    and len(parts) == 3
                    and parts[0] == split
                    and Path(parts[2]).suffix.lower() in _IMAGE_SUFFIXES
                ):
                    where = f"{archive}:{member.name}"
                    if member.size > MAX_IMAGE_BYTES:
                        raise DatasetFormatError(f"{where}: {member.size:,} bytes, over the limit")
                    f = tar.extractfile(member)
                    if f is not None:
                        yield parts[1], where, f.read(MAX_IMAGE_BYTES)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DatasetFormatError(f"{archive}: not a readable tar archive ({exc})") from exc


class Cifar10(InMemoryImageDataset):
    """CIFAR-10 as ``uint8`` tensors ``(N, 3, 32, 32)``.

    ``root`` may be

    * an image-folder tree ``<root>/<split>/<class>/*.jpg`` (e.g. the JPEG copy in ``shared/data``
      once extracted),
    * a ``.tar`` archive of that tree, read in place, or
    * torchvision's root (``cifar-10-batches-py``); ``download=True`` fetches it. torchvision
      checks those files' MD5 sums before reading them.

    Class folders must be CIFAR-10 class names; labels follow `alnumzoo.CIFAR10` order.

    Args:
        root: See above.
        split: ``"train"`` or ``"test"``.
        transform: Optional callable applied to each float image.
        download: Fetch torchvision's files first (needs internet).

    Raises:
        DatasetFormatError: nothing usable at ``root``, an unknown class folder, an unreadable
            image or images of differing sizes.
    """

    def __init__(
        self,
        root: str | Path,
        split: Literal["train", "test"] = "train",
        *,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        download: bool = False,
    ) -> None:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        root = Path(root)
        if download or (root / "cifar-10-batches-py").is_dir():
            x, y = self._from_torchvision(root, split, download)
        else:
            if root.is_file() and tarfile.is_tarfile(root):
                members = _tar_members(root, split)
            elif root.is_dir():
                members = _folder_members(root, split)
            else:
                raise DatasetFormatError(
                    f"expected a CIFAR-10 image folder (<root>/{split}/<class>/*.jpg), a .tar of "
                    f"one, or torchvision's cifar-10-batches-py at {root}"
                )
            x, y = self._from_members(members, root, split)
        super().__init__(x, y, CIFAR10, transform)

    @staticmethod
    def _from_members(
        members: Iterator[tuple[str, str, bytes]], root: Path, split: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        images: list[np.ndarray] = []
        targets: list[int] = []
        for class_name, where, data in members:
            if class_name not in CIFAR10:
                raise DatasetFormatError(
                    f"{where}: class folder {class_name!r} is not a CIFAR-10 class; expected one "
                    f"of {list(CIFAR10)}"
                )
            image = _decode(data, where)
            if images and image.shape != images[0].shape:
                raise DatasetFormatError(
                    f"{where}: size {image.shape} differs from {images[0].shape}"
                )
            images.append(image)
            targets.append(CIFAR10.index(class_name))
        if not images:
            raise DatasetFormatError(f"found no images for split {split!r} in {root}")
        x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
        return x, torch.tensor(targets, dtype=torch.long)

    @staticmethod
    def _from_torchvision(
        root: Path, split: str, download: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        from torchvision import datasets as tv_datasets

        try:
            ds = tv_datasets.CIFAR10(str(root), train=split == "train", download=download)
        except RuntimeError as exc:
            raise DatasetFormatError(f"{root}: {exc}") from exc
        x = torch.from_numpy(np.asarray(ds.data)).permute(0, 3, 1, 2).contiguous()
        return x, torch.tensor(ds.targets, dtype=torch.long)
