"""Fashion-MNIST from its idx files (Debian's ``dataset-fashion-mnist`` or torchvision's layout)."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from alnumzoo.data.base import DatasetFormatError, InMemoryImageDataset, read_regular_file
from alnumzoo.labels import FASHION_MNIST

__all__ = ["DEFAULT_FASHION_MNIST_ROOT", "FashionMNIST", "read_idx"]

#: Where Debian's ``dataset-fashion-mnist`` package installs the four ``.gz`` idx files.
DEFAULT_FASHION_MNIST_ROOT = "/usr/share/datasets/fashion-mnist"

# Fashion-MNIST's largest file unpacks to 47 MB.
_MAX_IDX_BYTES = 256 * 2**20
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file of unsigned bytes (``.gz`` or raw) into an array.

    torchvision's reader expects decompressed files in its own folder layout; Debian ships the
    ``.gz`` files, so this reads both.

    Raises:
        DatasetFormatError: not an unsigned-byte idx file, or its size disagrees with its header.
    """
    path = Path(path)
    data = read_regular_file(path, _MAX_IDX_BYTES)
    if path.suffix == ".gz":
        inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
        try:
            data = inflate.decompress(data, _MAX_IDX_BYTES + 1)
        except zlib.error as exc:
            raise DatasetFormatError(f"{path}: not a readable gzip file ({exc})") from exc
        if len(data) > _MAX_IDX_BYTES:
            raise DatasetFormatError(f"{path}: unpacks past the {_MAX_IDX_BYTES:,}-byte limit")
        if not inflate.eof:
            raise DatasetFormatError(f"{path}: the gzip stream is truncated")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DatasetFormatError(
            f"{path}: expected an idx file of unsigned bytes (magic 0x0000080N), got "
            f"{data[:4].hex() or 'an empty file'}"
        )
    ndim = data[3]
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims)) if dims else 0
    if len(data) - offset != expected:
        raise DatasetFormatError(
            f"{path}: header says shape {dims} ({expected} bytes) but the file holds "
            f"{len(data) - offset} bytes (truncated or corrupt)"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def _find(root: Path, stem: str) -> Path:
    for folder in (root, root / "FashionMNIST" / "raw"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    raise DatasetFormatError(
        f"expected Fashion-MNIST file {stem}[.gz] in {root} or {root / 'FashionMNIST' / 'raw'} "
        "(install Debian's dataset-fashion-mnist, or pass download=True with internet)"
    )


class FashionMNIST(InMemoryImageDataset):
    """Fashion-MNIST as ``uint8`` tensors with the report's seeded train/val split.

    Args:
        root: Folder with the idx files (``.gz`` or raw), or torchvision's root.
        split: ``"train"`` (54,000 of the training images), ``"val"`` (the other 6,000),
            ``"train_full"`` (all 60,000) or ``"test"`` (10,000).
        val_size: Images held out for validation from the 60,000.
        seed: Seed of the split; it equals ``torch.utils.data.random_split(train,
            [60000 - val_size, val_size], generator=torch.Generator().manual_seed(seed))``.
        transform: Optional callable applied to each float image.
        download: Fetch the files with torchvision first (needs internet).
    """

    def __init__(
        self,
        root: str | Path = DEFAULT_FASHION_MNIST_ROOT,
        split: Literal["train", "val", "train_full", "test"] = "train",
        *,
        val_size: int = 6000,
        seed: int = 0,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        download: bool = False,
    ) -> None:
        if split not in ("train", "val", "train_full", "test"):
            raise ValueError(f"split must be train, val, train_full or test, got {split!r}")
        root = Path(root)
        if download:
            from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

            TorchvisionFashionMNIST(str(root), train=split != "test", download=True)
        image_stem, label_stem = _FILES["test" if split == "test" else "train"]
        images = read_idx(_find(root, image_stem))
        targets = read_idx(_find(root, label_stem))
        if images.ndim != 3 or targets.shape != (images.shape[0],):
            raise DatasetFormatError(
                f"{root}: expected images (N, 28, 28) and labels (N,), got {images.shape} and "
                f"{targets.shape}"
            )
        x = torch.from_numpy(images.copy()).unsqueeze(1)
        y = torch.from_numpy(targets.astype(np.int64))
        if split in ("train", "val"):
            if not 0 < val_size < len(x):
                raise ValueError(f"val_size must be in (0, {len(x)}), got {val_size}")
            order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
            keep = order[: len(x) - val_size] if split == "train" else order[len(x) - val_size :]
            x, y = x[keep], y[keep]
        super().__init__(x, y, FASHION_MNIST, transform)
