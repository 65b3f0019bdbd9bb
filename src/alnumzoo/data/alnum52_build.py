"""Build the rendered alnum52 data set: screen fonts, split by family, render in parallel and
cache the result as one ``uint8`` array plus a manifest."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from alnumzoo._atomic import atomic_write
from alnumzoo._version import __version__
from alnumzoo.data.fonts import FontInfo, find_font_files, screen_font
from alnumzoo.data.render import RenderStyle, render_glyph
from alnumzoo.labels import ALNUM52

__all__ = [
    "BuildResult",
    "build_alnum52",
    "class_font_order",
    "family_group",
    "split_fonts_by_family",
]

FORMAT_VERSION = 1
#: The manifest's splits, in row order; a split's index seeds its fonts and images.
SPLITS = ("train", "valid")


@dataclass(frozen=True)
class BuildResult:
    """What [`build_alnum52`][alnumzoo.data.alnum52_build.build_alnum52] produced.

    Attributes:
        root: Output folder (``images.npy`` + ``manifest.json``).
        manifest: The manifest written there.
        reused: ``True`` when a matching cached set was found and nothing was rendered.
    """

    root: Path
    manifest: dict[str, Any]
    reused: bool


def family_group(family: str) -> str:
    """The superfamily a font family belongs to: its first word, lowercased.

    Families named by their foundry as variants of one design ("Bocuma Angle", "Bocuma Dent",
    "DejaVu Sans", "DejaVu Serif") share a group, so none of them leaks into the other split.
    """
    words = re.findall(r"[0-9a-z]+", family.lower().replace("brk", " "))
    return words[0] if words else family.lower()


def split_fonts_by_family(
    fonts: Sequence[FontInfo], valid_fraction: float, seed: int
) -> dict[str, list[FontInfo]]:
    """Assign whole font families to train or valid, so no family appears in both.

    Families are grouped by [`family_group`][alnumzoo.data.alnum52_build.family_group], the groups
    shuffled with ``seed`` and taken for valid until ``valid_fraction`` of the faces is reached (at
    least one group each side).

    Raises:
        ValueError: fewer than two family groups.
    """
    families = sorted({family_group(f.family) for f in fonts})
    if len(families) < 2:
        raise ValueError(
            "need fonts from at least 2 font families to split train/valid by family, got "
            f"{sorted({f.family for f in fonts})}"
        )
    order = np.random.default_rng(seed).permutation(len(families))
    valid_families: set[str] = set()
    valid_faces = 0
    for i in order[:-1]:
        if valid_faces >= valid_fraction * len(fonts) and valid_families:
            break
        valid_families.add(families[i])
        valid_faces += sum(family_group(f.family) == families[i] for f in fonts)
    return {
        "train": [f for f in fonts if family_group(f.family) not in valid_families],
        "valid": [f for f in fonts if family_group(f.family) in valid_families],
    }


def class_font_order(n_fonts: int, split_id: int, label: int, count: int, seed: int) -> list[int]:
    """Which of a split's ``n_fonts`` fonts draws each of the ``count`` images of one class.

    Fonts are used evenly: a rotation seeded by ``(seed, split_id, label)``, then round-robin.
    ``split_id`` is the split's index in the manifest (0 train, 1 valid).
    """
    start = int(np.random.default_rng([seed, split_id, label]).integers(n_fonts))
    return [(start + k) % n_fonts for k in range(count)]


def _render_class(
    fonts: list[FontInfo],
    split_id: int,
    label: int,
    count: int,
    size: int,
    seed: int,
    style: RenderStyle,
) -> np.ndarray:
    char = ALNUM52[label]
    out = np.empty((count, size, size), dtype=np.uint8)
    order = class_font_order(len(fonts), split_id, label, count, seed)
    for k, font in enumerate(order):
        rng = np.random.default_rng([seed, split_id, label, k])
        out[k] = render_glyph(fonts[font], char, size, rng, style)
    return out


def _screen(paths: Iterable[Path], workers: int) -> tuple[list[FontInfo], dict[str, str]]:
    paths = list(paths)
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(screen_font, paths, chunksize=16))
    kept = [r for r in results if isinstance(r, FontInfo)]
    rejected = {str(p): r for p, r in zip(paths, results, strict=True) if isinstance(r, str)}
    return kept, rejected


def build_alnum52(
    out_dir: str | Path,
    *,
    font_dirs: Iterable[str | Path] | None = None,
    size: int = 100,
    train_per_class: int = 800,
    valid_per_class: int = 300,
    valid_fraction: float = 0.27,
    seed: int = 0,
    style: RenderStyle | None = None,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> BuildResult:
    """Render the alnum52 stand-in from the font files on this machine and cache it.

    Fonts come from ``font_dirs`` (default: the system font folders), are screened with
    [`screen_font`][alnumzoo.data.fonts.screen_font], and split train/valid by family. Every image
    is rendered from its own seed, so the output is identical for the same fonts, seed and settings,
    whatever the number of workers. The set is written as ``images.npy`` (``uint8``, train rows
    first, class-major) and ``manifest.json`` (fonts per split, rejected fonts, seed, style, library
    version), both atomically; a later call with the same settings and fonts reuses it.

    Args:
        out_dir: Folder to write (created if needed).
        font_dirs: Folders or files to take fonts from.
        size: Image side in pixels (100 for BottleneckCNN, 90 for LiteResNet).
        train_per_class: Training images per class.
        valid_per_class: Validation images per class.
        valid_fraction: Share of font faces whose families go to validation.
        seed: Seed for the split and every image.
        style: Variation ranges (default [`RenderStyle`][alnumzoo.data.render.RenderStyle]).
        workers: Processes to render with (default: all cores).
        progress: Show a progress bar.
        overwrite: Render even when a matching set exists.

    Raises:
        ValueError: no usable fonts, or too few families to split.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    style = style or RenderStyle()
    workers = workers or os.cpu_count() or 1
    paths = find_font_files(font_dirs)
    fonts, rejected = _screen(paths, workers)
    if not fonts:
        raise ValueError(
            f"no usable fonts found in {list(font_dirs or ['system font folders'])}; install "
            "some, e.g. `apt-get install fonts-dejavu-core fonts-liberation` "
            "(scripts/make_alnum52.sh installs the project's set)"
        )
    splits = split_fonts_by_family(fonts, valid_fraction, seed)
    counts = {"train": train_per_class, "valid": valid_per_class}
    config = {
        "format_version": FORMAT_VERSION,
        "size": size,
        "seed": seed,
        "per_class": counts,
        "valid_fraction": valid_fraction,
        "style": style.to_dict(),
        "fonts": {s: [[f.path, f.family, f.style] for f in splits[s]] for s in SPLITS},
    }
    fingerprint = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    manifest_path = out / "manifest.json"
    if manifest_path.is_file() and (out / "images.npy").is_file() and not overwrite:
        existing = json.loads(manifest_path.read_text())
        if existing.get("fingerprint") == fingerprint:
            return BuildResult(out, existing, reused=True)

    total = sum(counts.values()) * len(ALNUM52)
    tmp_images = out / ".images.npy.partial"
    images = np.lib.format.open_memmap(tmp_images, "w+", np.uint8, (total, size, size))
    jobs = [(s, label) for s in SPLITS for label in range(len(ALNUM52))]
    with ProcessPoolExecutor(workers) as pool:
        futures = [
            pool.submit(
                _render_class, splits[s], SPLITS.index(s), label, counts[s], size, seed, style
            )
            for s, label in jobs
        ]
        row = 0
        for future in tqdm(futures, desc="render alnum52", unit="class", disable=not progress):
            block = future.result()
            images[row : row + len(block)] = block
            row += len(block)
    images.flush()
    del images
    os.replace(tmp_images, out / "images.npy")
    manifest = {
        **config,
        "fingerprint": fingerprint,
        "library_version": __version__,
        "classes": "".join(ALNUM52),
        "layout": "rows: split (train, valid), then class index, then sample",
        "splits": {
            "train": {"start": 0, "per_class": train_per_class},
            "valid": {"start": train_per_class * len(ALNUM52), "per_class": valid_per_class},
        },
        "families": {s: sorted({f.family for f in splits[s]}) for s in SPLITS},
        "rejected_fonts": rejected,
    }
    text = json.dumps(manifest, indent=1)
    atomic_write(manifest_path, lambda p: p.write_text(text))
    return BuildResult(out, manifest, reused=False)
