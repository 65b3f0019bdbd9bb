"""Tiny, learnable data sets for training tests (seconds on a CPU)."""

from __future__ import annotations

import torch

from alnumzoo.data import InMemoryImageDataset
from alnumzoo.labels import CIFAR10

# Ten well-separated colours: the class survives CIFAR-10's flips, shifts and zooms.
_PALETTE = torch.tensor(
    [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [255, 255, 0],
        [255, 0, 255],
        [0, 255, 255],
        [255, 255, 255],
        [128, 0, 0],
        [0, 128, 0],
        [0, 0, 128],
    ],
    dtype=torch.uint8,
)


def tiny_cifar(n: int = 128, seed: int = 0) -> InMemoryImageDataset:
    """32x32 RGB noise with a centred square whose colour is the class: learnable by
    CifarCNN in a few dozen steps, and invariant to the CIFAR-10 augmentation preset."""
    g = torch.Generator().manual_seed(seed)
    targets = torch.arange(n) % 10
    images = (torch.rand(n, 3, 32, 32, generator=g) * 60).to(torch.uint8)
    images[:, :, 8:24, 8:24] = _PALETTE[targets][:, :, None, None]
    return InMemoryImageDataset(images, targets, CIFAR10)
