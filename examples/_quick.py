"""Tiny stand-in data for the examples' ``--quick`` mode (what CI runs so no example rots)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from PIL import Image

from alnumzoo.data import Alnum52Rendered, InMemoryImageDataset, build_alnum52

#: Two Debian font packages the bootstrap installs: enough families for a train/valid split.
QUICK_FONTS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")


def quick_alnum52(size: int) -> tuple[Alnum52Rendered, Alnum52Rendered]:
    """A few images per class rendered from DejaVu (valid) and Liberation (train)."""
    root = Path(tempfile.mkdtemp(prefix="alnum52-quick-"))
    build_alnum52(
        root,
        font_dirs=QUICK_FONTS,
        size=size,
        train_per_class=6,
        valid_per_class=2,
        workers=1,
        progress=False,
    )
    return Alnum52Rendered(root, "train"), Alnum52Rendered(root, "valid")


def head(data: InMemoryImageDataset, n: int) -> InMemoryImageDataset:
    """The first ``n`` images, for the quick mode."""
    return data.subset(torch.arange(min(n, len(data))))


def image_tree(root: Path, classes: list[str], per_class: int, size: int = 64) -> Path:
    """``root/<class>/<i>.jpg``: solid colours per class, a torchvision ImageFolder."""
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            colour = ((c * 97 + i) % 256, (c * 31) % 256, (255 - c * 61) % 256)
            Image.new("RGB", (size, size), colour).save(root / name / f"{i}.jpg")
    return root


def dogs_tree(root: Path, per_breed: int = 3) -> Path:
    """A miniature Stanford Dogs layout (Images/, lists/) with two of the report's breeds."""
    train, test = [], []
    for wnid, breed in (("n02085620", "Chihuahua"), ("n02088094", "Afghan_hound")):
        image_tree(root / "Images", [f"{wnid}-{breed}"], per_breed)
        for i in range(per_breed):
            (train if i else test).append(f"{wnid}-{breed}/{i}.jpg")
    (root / "lists").mkdir(parents=True, exist_ok=True)
    (root / "lists" / "train_list.txt").write_text("\n".join(train))
    (root / "lists" / "test_list.txt").write_text("\n".join(test))
    return root
