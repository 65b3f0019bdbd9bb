"""Stanford Dogs (official layout) restricted to a breed subset, cleaned as report 003 did."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from PIL import Image
from torch.utils.data import Dataset

from alnumzoo.data.base import DatasetFormatError, require_dir
from alnumzoo.data.image_files import open_image
from alnumzoo.labels import DOG_BREEDS, LabelMap

__all__ = [
    "CleaningReport",
    "StanfordDogs",
    "dogs_eval_transform",
    "dogs_train_transform",
]


@dataclass
class CleaningReport:
    """What [`StanfordDogs`][alnumzoo.data.dogs.StanfordDogs] kept and skipped while indexing its
    images.

    Attributes:
        kept: Number of images in the data set.
        grayscale: Single-channel images skipped (the report dropped them).
        corrupt: Unreadable or truncated images skipped, with the reason.
        missing_breeds: Requested breeds that have no folder under ``Images/``.
    """

    kept: int = 0
    grayscale: list[Path] = field(default_factory=list)
    corrupt: list[tuple[Path, str]] = field(default_factory=list)
    missing_breeds: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"kept {self.kept} images; skipped {len(self.grayscale)} grayscale and "
            f"{len(self.corrupt)} corrupt; missing breeds: {self.missing_breeds or 'none'}"
        )


def dogs_train_transform(size: int = 256) -> Callable[[Image.Image], torch.Tensor]:
    """Report 003's training augmentation: random affine (rotation, shear, scale 0.8–1.2),
    colour jitter (brightness/contrast/saturation ×0.75–1.25, hue ±0.1), resized to
    ``size``×``size``, as a float tensor in [0, 1] without normalisation."""
    from torchvision.transforms import v2

    transform: Callable[[Image.Image], torch.Tensor] = v2.Compose(
        [
            v2.PILToTensor(),
            v2.Resize((size, size), antialias=True),
            v2.RandomAffine(degrees=15, shear=10, scale=(0.8, 1.2)),
            v2.ColorJitter(brightness=0.25, contrast=0.25, saturation=0.25, hue=0.1),
            v2.ToDtype(torch.float32, scale=True),
        ]
    )
    return transform


def dogs_eval_transform(size: int = 256) -> Callable[[Image.Image], torch.Tensor]:
    """Report 003's evaluation transform: resize to ``size``×``size``, float in [0, 1]."""
    from torchvision.transforms import v2

    transform: Callable[[Image.Image], torch.Tensor] = v2.Compose(
        [
            v2.PILToTensor(),
            v2.Resize((size, size), antialias=True),
            v2.ToDtype(torch.float32, scale=True),
        ]
    )
    return transform


def _read_list(root: Path, split: str) -> list[str] | None:
    for folder in (root / "lists", root):
        txt = folder / f"{split}_list.txt"
        if txt.is_file():
            return [line.strip() for line in txt.read_text().splitlines() if line.strip()]
        mat = folder / f"{split}_list.mat"
        if mat.is_file():
            try:
                from scipy.io import loadmat
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise DatasetFormatError(
                    f"{mat} is a MATLAB list; install scipy to read it, or provide "
                    f"{split}_list.txt with one Images/-relative path per line"
                ) from exc
            entries: Any = loadmat(str(mat))["file_list"]
            return [str(e[0][0]) for e in entries]
    return None


class StanfordDogs(Dataset[tuple[torch.Tensor, int]]):
    """Stanford Dogs images of the chosen breeds, with grayscale and corrupt files removed.

    Layout: ``<root>/Images/n02085620-Chihuahua/*.jpg`` and, for the official split,
    ``<root>/lists/{train,test}_list.{mat,txt}`` (paths relative to ``Images/``). Breeds are
    matched by the folder name after the WordNet id; classes follow the order of ``breeds``
    (default: `alnumzoo.DOG_BREEDS`, alphabetical). Every image is opened and fully
    decoded once while indexing; what is skipped is listed in `report`.

    Args:
        root: Data set root.
        split: ``"train"`` / ``"test"`` (official lists) or ``"all"`` (every image).
        breeds: Breed names to keep, or a [`LabelMap`][alnumzoo.labels.LabelMap].
        transform: Callable turning a PIL RGB image into a tensor (default:
            [`dogs_eval_transform`][alnumzoo.data.dogs.dogs_eval_transform]).

    Raises:
        DatasetFormatError: no ``Images/`` folder, no list for the split, or no images left.
    """

    def __init__(
        self,
        root: str | Path,
        split: Literal["train", "test", "all"] = "train",
        *,
        breeds: Sequence[str] | LabelMap = DOG_BREEDS,
        transform: Callable[[Image.Image], torch.Tensor] | None = None,
    ) -> None:
        root = Path(root)
        images_dir = require_dir(root / "Images", "the Stanford Dogs layout Images/n0…-breed/*.jpg")
        self.labels = breeds if isinstance(breeds, LabelMap) else LabelMap("dogs", tuple(breeds))
        self.transform = transform or dogs_eval_transform()
        self.report = CleaningReport()
        folders = {
            p.name.split("-", 1)[1]: p.name
            for p in images_dir.iterdir()
            if p.is_dir() and "-" in p.name
        }
        self.report.missing_breeds = [b for b in self.labels if b not in folders]
        wanted = {folders[b]: self.labels.index(b) for b in self.labels if b in folders}
        if split == "all":
            relative = sorted(
                f"{folder}/{f.name}" for folder in wanted for f in (images_dir / folder).iterdir()
            )
        else:
            listed = _read_list(root, split)
            if listed is None:
                raise DatasetFormatError(
                    f"expected {split}_list.txt or {split}_list.mat in {root / 'lists'} for "
                    f"split={split!r} (or use split='all')"
                )
            relative = [r for r in listed if r.split("/", 1)[0] in wanted]
        self.samples: list[tuple[Path, int]] = []
        for rel in relative:
            path = images_dir / rel
            problem = self._check(path)
            if problem == "grayscale":
                self.report.grayscale.append(path)
            elif problem:
                self.report.corrupt.append((path, problem))
            else:
                self.samples.append((path, wanted[rel.split("/", 1)[0]]))
        self.report.kept = len(self.samples)
        if not self.samples:
            raise DatasetFormatError(f"no usable images of the requested breeds under {images_dir}")

    @staticmethod
    def _check(path: Path) -> str | None:
        try:
            im = open_image(path)  # full decode: catches truncated files that verify() passes
        except DatasetFormatError as exc:
            return str(exc)
        if im.mode in ("L", "LA", "1", "I", "I;16", "F"):
            return "grayscale"
        return None

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        return self.transform(open_image(path).convert("RGB")), label
