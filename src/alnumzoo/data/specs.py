"""Open a data set from a short spec such as ``"fashion-mnist"`` or ``"cifar10:/data/c.tar"``
(what the command line's ``--data`` takes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alnumzoo.data.base import DatasetFormatError, SizedDataset
from alnumzoo.data.profiles import DATA_KINDS

__all__ = ["DataSplits", "open_data"]

@dataclass(frozen=True)
class DataSplits:
    """The splits of one data set.

    Attributes:
        train: Training split.
        val: Validation split used during training (``None`` where the data set has none).
        test: Held-out split for the final number.
        test_name: What ``test`` is, for printing.
    """

    train: SizedDataset[Any]
    val: SizedDataset[Any] | None
    test: SizedDataset[Any]
    test_name: str


def open_data(spec: str) -> DataSplits:
    """Open the data set a spec names: ``KIND[:ROOT]`` with KIND one of `DATA_KINDS`.

    Raises:
        ValueError: unknown kind, or a kind that needs a root given none; the message lists
            the kinds and what their root is.
        DatasetFormatError: the root is not laid out as expected.
    """
    kind, _, root = spec.partition(":")
    kind = kind.strip().lower().replace("_", "-")
    if kind not in DATA_KINDS:
        kinds = "; ".join(f"{k}: {v}" for k, v in DATA_KINDS.items())
        raise ValueError(
            f"unknown data set {spec!r}; expected KIND[:ROOT] with KIND one of {kinds}"
        )
    if kind == "fashion-mnist":
        from alnumzoo.data.fashion_mnist import DEFAULT_FASHION_MNIST_ROOT, FashionMNIST

        r = root or DEFAULT_FASHION_MNIST_ROOT
        return DataSplits(
            FashionMNIST(r, "train"), FashionMNIST(r, "val"), FashionMNIST(r, "test"), "test"
        )
    if not root:
        raise ValueError(f"{kind} needs a root: --data {kind}:PATH ({DATA_KINDS[kind]})")
    path = Path(root)
    if kind == "alnum52":
        from alnumzoo.data.alnum52 import Alnum52Folder, Alnum52Rendered

        cls = Alnum52Rendered if (path / "images.npy").is_file() else Alnum52Folder
        valid = cls(path, "valid")
        return DataSplits(cls(path, "train"), valid, valid, "valid")
    if kind == "cifar10":
        from alnumzoo.data.cifar10 import Cifar10

        return DataSplits(Cifar10(path, "train"), None, Cifar10(path, "test"), "test")
    if kind == "dogs":
        from alnumzoo.data.dogs import StanfordDogs, dogs_train_transform

        test = StanfordDogs(path, "test")
        return DataSplits(
            StanfordDogs(path, "train", transform=dogs_train_transform()), test, test, "test"
        )
    raise DatasetFormatError(spec)  # pragma: no cover - every kind is handled above
