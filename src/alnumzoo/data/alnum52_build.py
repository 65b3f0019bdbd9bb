"""Build the rendered alnum52 data set: screen fonts, split by family, render in parallel and
cache the result as one ``uint8`` array plus a manifest."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from alnumzoo._atomic import atomic_write
from alnumzoo._version import __version__
from alnumzoo.data.font_categories import CATEGORIES, Category, count_categories
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
#: The splits of a format 1 manifest, in row order; a split's index seeds its fonts and images.
#: Format 2 manifests list theirs under ``split_order``.
SPLITS = ("train", "valid")
CATEGORY_IDS: dict[str, int] = {c: i for i, c in enumerate(CATEGORIES)}


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
    fonts: Sequence[FontInfo],
    fractions: Mapping[str, float],
    seed: int,
    categories: Sequence[str] | None = None,
) -> dict[str, list[FontInfo]]:
    """Assign whole font families to ``"train"`` or one of the held-back splits.

    Families are grouped by [`family_group`][alnumzoo.data.alnum52_build.family_group], so no
    group is in two splits. Within each category (``categories[i]`` is that of ``fonts[i]``; a
    group takes its faces' most common one) the groups are shuffled with ``seed`` and dealt to
    the splits of ``fractions`` in their order, each until it holds its share of the category's
    faces (at least one group each while two remain); the rest train. Stratifying keeps rare
    kinds such as blackletter in every split. Without ``categories`` every font is one category,
    and ``{"valid": f}`` gives the same split as format 1 sets had.

    Raises:
        ValueError: fewer family groups than splits.
    """
    kinds = list(categories) if categories is not None else ["text"] * len(fonts)
    if len(kinds) != len(fonts):
        raise ValueError(f"{len(kinds)} categories for {len(fonts)} fonts")
    groups: dict[str, list[int]] = {}
    for i, f in enumerate(fonts):
        groups.setdefault(family_group(f.family), []).append(i)
    if len(groups) < len(fractions) + 1:
        raise ValueError(
            f"need fonts from at least {len(fractions) + 1} font families to split "
            f"{['train', *fractions]} by family, got {sorted({f.family for f in fonts})}"
        )
    group_kind = {
        g: max(sorted(set(kinds[i] for i in rows)), key=[kinds[i] for i in rows].count)
        for g, rows in groups.items()
    }
    assigned: dict[str, str] = {}
    for kind in sorted(set(group_kind.values())):
        names = sorted(g for g, k in group_kind.items() if k == kind)
        faces = sum(len(groups[g]) for g in names)
        # One category alone uses the seed as format 1 did; several get a stream each.
        rng_seed = seed if len(set(group_kind.values())) == 1 else [seed, CATEGORY_IDS[kind]]
        order = iter(np.random.default_rng(rng_seed).permutation(len(names)).tolist())
        remaining = len(names)
        for split, fraction in fractions.items():
            taken = 0
            while remaining > 1 and (taken < fraction * faces or not taken):
                g = names[next(order)]
                assigned[g] = split
                taken += len(groups[g])
                remaining -= 1
    return {
        split: [f for f in fonts if assigned.get(family_group(f.family), "train") == split]
        for split in ("train", *fractions)
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
    held_out: Mapping[str, tuple[float, int]] | None = None,
    category_of: Callable[[FontInfo], Category] | None = None,
    seed: int = 0,
    style: RenderStyle | None = None,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> BuildResult:
    """Render the alnum52 stand-in from the font files on this machine and cache it.

    Fonts come from ``font_dirs`` (default: the system font folders), are screened with
    [`screen_font`][alnumzoo.data.fonts.screen_font], and split by family
    ([`split_fonts_by_family`][alnumzoo.data.alnum52_build.split_fonts_by_family]). Every image
    is rendered from its own seed, so the output is identical for the same fonts, seed and settings,
    whatever the number of workers. The set is written as ``images.npy`` (``uint8``, rows split
    by split, then class-major) and ``manifest.json`` (fonts and their categories per split,
    rejected fonts, seed, style, library version), both atomically; a later call with the same
    settings and fonts reuses it.

    Args:
        out_dir: Folder to write (created if needed).
        font_dirs: Folders or files to take fonts from.
        size: Image side in pixels (100 for BottleneckCNN, 90 for LiteResNet).
        train_per_class: Training images per class.
        valid_per_class: Validation images per class (the ``"valid"`` split).
        valid_fraction: Share of font faces whose families go to ``"valid"``.
        held_out: Instead of ``"valid"``: the held-back splits in order, each as
            ``name: (share of faces, images per class)``, e.g.
            ``{"select": (0.08, 100), "heldout": (0.17, 300)}`` for a selection split that picks
            epochs and variants and a held-out split touched once per published model.
        category_of: A font's category
            ([`font_category`][alnumzoo.data.font_categories.font_category]); the splits are
            stratified by it and the manifest records it. Default: every font ``"text"``.
        seed: Seed for the split and every image.
        style: Variation ranges (default [`RenderStyle`][alnumzoo.data.render.RenderStyle]).
        workers: Processes to render with (default: all cores).
        progress: Show a progress bar.
        overwrite: Render even when a matching set exists.

    Raises:
        ValueError: no usable fonts, too few families to split, or a split named ``"train"``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    style = style or RenderStyle()
    workers = workers or os.cpu_count() or 1
    plan = dict(held_out) if held_out is not None else {"valid": (valid_fraction, valid_per_class)}
    if "train" in plan or not plan:
        raise ValueError(f"held_out names the held-back splits (not 'train'), got {list(plan)}")
    paths = find_font_files(font_dirs)
    fonts, rejected = _screen(paths, workers)
    if not fonts:
        raise ValueError(
            f"no usable fonts found in {list(font_dirs or ['system font folders'])}; install "
            "some, e.g. `apt-get install fonts-dejavu-core fonts-liberation` "
            "(scripts/make_alnum52.sh installs the project's set)"
        )
    kinds = [category_of(f) for f in fonts] if category_of is not None else None
    splits = split_fonts_by_family(fonts, {k: v[0] for k, v in plan.items()}, seed, kinds)
    all_text: list[Category] = ["text"] * len(fonts)
    kind_of = {f.path: k for f, k in zip(fonts, kinds or all_text, strict=True)}
    order = ("train", *plan)
    counts = {"train": train_per_class, **{k: v[1] for k, v in plan.items()}}
    config: dict[str, Any] = {
        "format_version": FORMAT_VERSION if held_out is None else 2,
        "size": size,
        "seed": seed,
        "per_class": counts,
        "style": style.to_dict(),
        "fonts": {s: [[f.path, f.family, f.style] for f in splits[s]] for s in order},
    }
    if held_out is None:
        config["valid_fraction"] = valid_fraction
    else:
        config["split_order"] = list(order)
        config["fractions"] = {k: v[0] for k, v in plan.items()}
        config["font_categories"] = {s: [kind_of[f.path] for f in splits[s]] for s in order}
    fingerprint = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    manifest_path = out / "manifest.json"
    if manifest_path.is_file() and (out / "images.npy").is_file() and not overwrite:
        existing = json.loads(manifest_path.read_text())
        if existing.get("fingerprint") == fingerprint:
            return BuildResult(out, existing, reused=True)

    total = sum(counts.values()) * len(ALNUM52)
    tmp_images = out / ".images.npy.partial"
    images = np.lib.format.open_memmap(tmp_images, "w+", np.uint8, (total, size, size))
    jobs = [(s, label) for s in order for label in range(len(ALNUM52))]
    with ProcessPoolExecutor(workers) as pool:
        futures = [
            pool.submit(
                _render_class, splits[s], order.index(s), label, counts[s], size, seed, style
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
    starts = np.cumsum([0, *(counts[s] * len(ALNUM52) for s in order)]).tolist()
    manifest = {
        **config,
        "fingerprint": fingerprint,
        "library_version": __version__,
        "classes": "".join(ALNUM52),
        "layout": f"rows: split ({', '.join(order)}), then class index, then sample",
        "splits": {
            s: {"start": int(starts[i]), "per_class": counts[s]} for i, s in enumerate(order)
        },
        "families": {s: sorted({f.family for f in splits[s]}) for s in order},
        "rejected_fonts": rejected,
    }
    if kinds is not None:
        manifest["families_by_category"] = {
            s: count_categories(
                max(sorted(k), key=k.count) for k in _family_kinds(splits[s], kind_of).values()
            )
            for s in order
        }
    text = json.dumps(manifest, indent=1)
    atomic_write(manifest_path, lambda p: p.write_text(text))
    return BuildResult(out, manifest, reused=False)


def _family_kinds(
    fonts: Sequence[FontInfo], kind_of: Mapping[str, Category]
) -> dict[str, list[Category]]:
    by_family: dict[str, list[Category]] = {}
    for f in fonts:
        by_family.setdefault(f.family, []).append(kind_of[f.path])
    return by_family
