"""The 52-class alphanumeric font set: the course's on-disk format and the rendered stand-in."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from alnumzoo.data.alnum52_build import SPLITS, class_font_order
from alnumzoo.data.base import (
    DatasetFormatError,
    InMemoryImageDataset,
    read_regular_file,
    require_dir,
)
from alnumzoo.data.safe_npy import load_image_array
from alnumzoo.data.transforms import crop_to_ink
from alnumzoo.labels import ALNUM52

__all__ = ["Alnum52Folder", "Alnum52Rendered", "Split"]

#: ``train``/``valid`` in the course layout and format 1 rendered sets; format 2 sets hold
#: ``train``, ``select`` (picks epochs and variants) and ``heldout`` (touched once per model).
Split = Literal["train", "valid", "select", "heldout"]
_MAX_MANIFEST_BYTES = 64 * 2**20
Transform = Callable[[torch.Tensor], torch.Tensor] | None


def _to_uint8(array: np.ndarray, path: Path) -> np.ndarray:
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise DatasetFormatError(
            f"{path}: expected an image array of shape (1, H, W) or (H, W), got {array.shape}"
        )
    if array.dtype == np.uint8:
        return np.asarray(array)
    if array.size == 0:
        raise DatasetFormatError(f"{path}: the image is empty ({array.shape})")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise DatasetFormatError(f"{path}: {bad} pixel(s) are NaN or infinite")
    if array.dtype.kind == "f" and float(array.max(initial=0.0)) <= 1.0:
        array = array * 255.0
    out: np.ndarray = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    return out


class Alnum52Folder(InMemoryImageDataset):
    """Reader for the course's alnum52 files: ``<root>/<split>/<hex>/<n>_<hex>.npy``.

    Each file holds an ``image`` array of shape ``(1, 100, 100)`` (pickled dict, plain array or
    ``.npz``; pickles are read by a loader that can only rebuild arrays). Items are what the
    course loader returned: a float tensor ``(1, H, W)`` in [0, 1], upright, and the label index
    in `alnumzoo.ALNUM52` order, which is fixed by the folder's hex code, never by
    folder listing order.

    Args:
        root: Folder holding ``train/`` and ``valid/``.
        split: ``"train"`` or ``"valid"``.
        transform: Optional callable applied to each float image.

    Raises:
        DatasetFormatError: the split folder is missing, has no class folders, or holds a folder
            that is not one of the 52 hex codes.
        alnumzoo.data.UnsafeArrayError: a file would need to execute code.
    """

    def __init__(self, root: str | Path, split: Split = "train", transform: Transform = None):
        if split not in ("train", "valid"):
            raise ValueError(f"split must be 'train' or 'valid', got {split!r}")
        base = require_dir(
            Path(root) / split, f"the course layout <root>/{split}/<hex code>/<n>_<hex>.npy"
        )
        images: list[np.ndarray] = []
        targets: list[int] = []
        class_dirs = sorted(p for p in base.iterdir() if p.is_dir())
        if not class_dirs:
            raise DatasetFormatError(
                f"expected hex-named class folders (30, 41, 61, ...) in {base}"
            )
        for class_dir in class_dirs:
            try:
                label = ALNUM52.index_of_folder(class_dir.name.lower())
            except KeyError as exc:
                raise DatasetFormatError(f"{class_dir}: {exc.args[0]}") from None
            for file in sorted(class_dir.glob("*.np[yz]")):
                images.append(_to_uint8(load_image_array(file), file))
                targets.append(label)
        if not images:
            raise DatasetFormatError(f"found no .npy files under {base}/<hex code>/")
        shapes = {im.shape for im in images}
        if len(shapes) != 1:
            raise DatasetFormatError(f"images under {base} differ in size: {sorted(shapes)}")
        super().__init__(
            torch.from_numpy(np.stack(images)).unsqueeze(1),
            torch.tensor(targets, dtype=torch.long),
            ALNUM52,
            transform,
        )


class Alnum52Rendered(InMemoryImageDataset):
    """The rendered alnum52 stand-in written by
    [`alnumzoo.data.build_alnum52`][alnumzoo.data.alnum52_build.build_alnum52].

    Loads ``images.npy`` (``uint8``, ``(N, H, W)``, read without pickle support) and
    ``manifest.json`` from ``root``; the manifest says which rows belong to which split and class.

    Args:
        root: Output folder of [`build_alnum52`][alnumzoo.data.alnum52_build.build_alnum52].
        split: A split the manifest holds: ``"train"``/``"valid"`` (format 1) or
            ``"train"``/``"select"``/``"heldout"`` (format 2). Font families never appear in
            two splits.
        transform: Optional callable applied to each float image.

    Raises:
        DatasetFormatError: ``root`` holds no rendered set, or its files disagree.
    """

    def __init__(self, root: str | Path, split: Split = "train", transform: Transform = None):
        root = Path(root)
        manifest_path = root / "manifest.json"
        if not manifest_path.is_file():
            raise DatasetFormatError(
                f"expected a rendered alnum52 set (manifest.json + images.npy) in {root}; "
                "create one with `alnumzoo render-alnum52 DIR` or alnumzoo.data.build_alnum52"
            )
        try:
            manifest = json.loads(read_regular_file(manifest_path, _MAX_MANIFEST_BYTES))
            info = manifest["splits"][split]
            start, per_class = int(info["start"]), int(info["per_class"])
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DatasetFormatError(f"{manifest_path}: not valid JSON ({exc})") from exc
        except (KeyError, TypeError, ValueError) as exc:
            splits = manifest.get("splits") if isinstance(manifest, dict) else None
            if isinstance(splits, dict) and split not in splits:
                raise ValueError(f"split must be one of {sorted(splits)}") from None
            raise DatasetFormatError(
                f"{manifest_path}: expected 'splits' → {split!r} → integer 'start' and "
                f"'per_class' (as build_alnum52 writes them); missing or invalid: {exc}"
            ) from exc
        if start < 0 or per_class < 1:
            raise DatasetFormatError(
                f"{manifest_path}: invalid start {start} / per_class {per_class}"
            )
        self.manifest = manifest
        stop = start + per_class * len(ALNUM52)
        images_path = root / "images.npy"
        if not images_path.is_file():  # also refuses FIFOs and devices, which mmap can't take
            raise DatasetFormatError(f"{images_path}: expected the rendered images (a .npy file)")
        try:
            array = np.load(images_path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise DatasetFormatError(f"{images_path}: not a readable .npy file ({exc})") from exc
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[0] < stop:
            raise DatasetFormatError(
                f"{images_path}: expected uint8 (N>={stop}, H, W), got {array.dtype} {array.shape}"
            )
        images = torch.from_numpy(np.array(array[start:stop])).unsqueeze(1)
        targets = torch.arange(len(ALNUM52)).repeat_interleave(per_class)
        super().__init__(images, targets, ALNUM52, transform)
        self.split = split
        self.per_class = per_class

    def _split_fonts(self, key: str, width: int) -> list[list[Any]]:
        fonts = self.manifest.get(key, {}).get(self.split)
        seed = self.manifest.get("seed")
        well_formed = isinstance(fonts, list) and all(
            isinstance(f, list) and len(f) == width for f in fonts
        )
        if not fonts or not well_formed or not isinstance(seed, int):
            raise DatasetFormatError(
                f"the manifest does not say which fonts drew split {self.split!r}; expected "
                "build_alnum52's integer 'seed' and 'fonts' → split → [path, family, style]"
            )
        return list(fonts)

    def _font_rows(self, n_fonts: int) -> list[int]:
        order = self.manifest.get("split_order", list(SPLITS))
        split_id = order.index(self.split)
        seed = int(self.manifest["seed"])
        return [
            i
            for label in range(len(ALNUM52))
            for i in class_font_order(n_fonts, split_id, label, self.per_class, seed)
        ]

    def image_fonts(self) -> list[tuple[str, str, str]]:
        """The font that drew each image, in row order, as ``(path, family, style)``.

        Recomputed from the manifest with the builder's own font order
        ([`class_font_order`][alnumzoo.data.alnum52_build.class_font_order]), for error
        analysis by font.

        Raises:
            DatasetFormatError: the manifest does not list this split's fonts.
        """
        fonts = self._split_fonts("fonts", 3)
        return [
            (str(fonts[i][0]), str(fonts[i][1]), str(fonts[i][2]))
            for i in self._font_rows(len(fonts))
        ]

    def image_categories(self) -> list[str]:
        """The category (text, display, script, blackletter) of the font behind each image,
        in row order; every image is ``"text"`` in a set built without categories."""
        fonts = self._split_fonts("fonts", 3)
        kinds = self.manifest.get("font_categories", {}).get(self.split)
        if kinds is None:
            return ["text"] * len(self)
        if not isinstance(kinds, list) or len(kinds) != len(fonts):
            raise DatasetFormatError(
                f"the manifest's font_categories for {self.split!r} do not match its fonts"
            )
        return [str(kinds[i]) for i in self._font_rows(len(fonts))]

    def tight_crop(self, margin: float = 0.04) -> InMemoryImageDataset:
        """The same images cropped to the glyph and scaled to fill the frame, as a character
        cut tightly from a scan or a photo would be (aspect kept, ``margin`` of the frame left
        on the longer side). Labels are unchanged."""
        images = crop_to_ink(self.images, margin)
        return InMemoryImageDataset(images, self.targets.clone(), ALNUM52, self.transform)
