"""Small fixed samples that the golden-output tests re-evaluate the shipped weights on.

alnum52 samples are images this project rendered (two per class from the valid split, i.e.
unseen font families), stored in ``tests/golden/``; Fashion-MNIST and CIFAR-10 samples are read
from the real data on the machine (the first 200 test images), never copied into the repo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

GOLDEN = Path(__file__).parent / "golden"
REPO = Path(__file__).resolve().parents[1]
CIFAR_TAR = REPO.parent / "shared" / "data" / "cifar10_jpeg_q75.tar"
SAMPLE = 200


def _alnum52(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    path = GOLDEN / f"alnum52_{size}.npz"
    if not path.exists():
        from alnumzoo.data import Alnum52Rendered

        root = REPO / "data" / ("alnum52" if size == 100 else f"alnum52_{size}")
        valid = Alnum52Rendered(root, "valid")
        picks = torch.cat([(valid.targets == c).nonzero()[:2, 0] for c in range(52)])
        np.savez_compressed(
            path, images=valid.images[picks].numpy(), targets=valid.targets[picks].numpy()
        )
    with np.load(path, allow_pickle=False) as data:
        return torch.from_numpy(data["images"]), torch.from_numpy(data["targets"])


def golden_sample(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(uint8 images, targets)`` of the fixed sample for registry variant ``name``."""
    if name.startswith("bottleneck_cnn."):
        return _alnum52(100)
    if (name.startswith("lite_resnet.") and name.endswith("_48")) or name.startswith(
        "char_resnet."
    ):
        return _alnum52(48)
    if name.startswith("lite_resnet."):
        return _alnum52(90)
    if name.startswith("crnn."):
        from alnumzoo.data import FashionMNIST

        test = FashionMNIST(split="test")
        return test.images[:SAMPLE], test.targets[:SAMPLE]
    if name.startswith("cifar_cnn."):
        from alnumzoo.data import Cifar10

        test = Cifar10(CIFAR_TAR, "test")
        return test.images[:SAMPLE], test.targets[:SAMPLE]
    raise KeyError(name)
