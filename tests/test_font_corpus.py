"""The wide alnum52 corpus: font categories, three stratified splits, real-world rendering and
the tight-crop held-out copy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from alnumzoo import ALNUM52, Alnum52Rendered, build_alnum52
from alnumzoo.data import RenderStyle, family_group, find_font_files, render_glyph, screen_font
from alnumzoo.data.alnum52_build import split_fonts_by_family
from alnumzoo.data.font_categories import (
    CATEGORIES,
    debian_font_owners,
    font_category,
    font_classifier,
    read_debian_categories,
)
from alnumzoo.data.fonts import FontInfo, _symbolic_name
from alnumzoo.data.transforms import crop_to_ink, fill_frame

REPO = Path(__file__).resolve().parents[1]
SYSTEM_FONTS = [f for f in map(screen_font, find_font_files()[:40]) if isinstance(f, FontInfo)]
needs_fonts = pytest.mark.skipif(len(SYSTEM_FONTS) < 2, reason="too few fonts installed")


def test_debian_list_categories_and_errors(tmp_path: Path) -> None:
    table = read_debian_categories(REPO / "scripts" / "debian_fonts.txt")
    assert len(table) >= 150
    assert table["fonts-kristi"] == "script"
    assert table["fonts-blankenburg"] == "blackletter"
    assert table["fonts-aenigma"] == "display"
    assert table["fonts-dejavu-core"] == "text"
    bad = tmp_path / "list.txt"
    bad.write_text("fonts-x  # gothic\n")
    with pytest.raises(ValueError, match=r"list.txt:1: category 'gothic' is not one of"):
        read_debian_categories(bad)


def test_category_rules(tmp_path: Path) -> None:
    npm = tmp_path / "fontsource__caveat"
    npm.mkdir()
    (npm / ".package.json").write_text(json.dumps({"category": "handwriting"}))
    assert font_category(npm / "caveat.woff2", "Caveat") == "script"
    (npm / ".package.json").write_text(json.dumps({"category": "display"}))
    assert font_category(npm / "caveat.woff2", "Caveat") == "display"
    # Google files blackletter under display; the family name says otherwise.
    assert font_category(npm / "f.woff2", "UnifrakturMaguntia") == "blackletter"
    assert font_category(npm / "f.woff2", "Grenze Gotisch") == "blackletter"
    deb = tmp_path / "usr" / "Kristi.ttf"
    owners = {str(deb.resolve()): "fonts-kristi"}
    assert font_category(deb, "Kristi", debian={"fonts-kristi": "script"}, owners=owners) == (
        "script"
    )
    assert font_category(deb, "Kristi") == "text"  # nothing known: a text face


def test_dpkg_owner_listing(tmp_path: Path) -> None:
    (tmp_path / "fonts-a.list").write_text("/usr/share/fonts/truetype/a/A.ttf\n/usr/share/doc/a\n")
    (tmp_path / "fonts-b:all.list").write_text("/usr/share/fonts/opentype/b/B.otf\n")
    owners = debian_font_owners(tmp_path)
    assert owners == {
        str(Path("/usr/share/fonts/truetype/a/A.ttf").resolve()): "fonts-a",
        str(Path("/usr/share/fonts/opentype/b/B.otf").resolve()): "fonts-b",
    }


def _fonts(n_groups: int, kinds: list[str]) -> tuple[list[FontInfo], list[str]]:
    fonts, categories = [], []
    for g in range(n_groups):
        for face in ("Regular", "Bold"):
            fonts.append(FontInfo(f"/f/{g}-{face}.ttf", f"Group{g} Sans", face, 0.7))
            categories.append(kinds[g % len(kinds)])
    return fonts, categories


def test_three_splits_are_disjoint_by_family_and_stratified() -> None:
    fonts, kinds = _fonts(60, ["text", "text", "text", "display", "script", "blackletter"])
    splits = split_fonts_by_family(fonts, {"select": 0.1, "heldout": 0.2}, 0, kinds)
    assert list(splits) == ["train", "select", "heldout"]
    assert sum(len(v) for v in splits.values()) == len(fonts)
    groups = {s: {family_group(f.family) for f in v} for s, v in splits.items()}
    assert not groups["train"] & groups["select"]
    assert not groups["train"] & groups["heldout"]
    assert not groups["select"] & groups["heldout"]
    kind_of = {f.path: k for f, k in zip(fonts, kinds, strict=True)}
    for split in splits:
        assert {kind_of[f.path] for f in splits[split]} == set(CATEGORIES)
    assert 0.15 <= len(splits["heldout"]) / len(fonts) <= 0.3
    assert splits == split_fonts_by_family(fonts, {"select": 0.1, "heldout": 0.2}, 0, kinds)
    assert splits != split_fonts_by_family(fonts, {"select": 0.1, "heldout": 0.2}, 1, kinds)


def test_two_way_split_is_the_format_1_split() -> None:
    # Format 1 took whole groups in a permutation of the sorted groups until the share was
    # reached, never the last group; format 1 sets must keep their fonts.
    fonts, _ = _fonts(12, ["text"])
    families = sorted({family_group(f.family) for f in fonts})
    order = np.random.default_rng(5).permutation(len(families))
    expected: set[str] = set()
    for i in order[:-1]:
        if len(expected) * 2 >= 0.27 * len(fonts) and expected:
            break
        expected.add(families[i])
    splits = split_fonts_by_family(fonts, {"valid": 0.27}, 5)
    assert {family_group(f.family) for f in splits["valid"]} == expected


def test_fill_frame_and_tight_crop() -> None:
    image = np.full((40, 40), 230, np.uint8)
    image[18:26, 16:20] = 10  # a small, tall glyph
    filled = fill_frame(image, margin=0.05)
    rows, cols = np.nonzero(filled < 128)
    assert rows.max() - rows.min() + 1 >= 34  # the longer side spans the frame less margins
    assert 12 <= cols.max() - cols.min() + 1 <= 20  # aspect kept (8x4 -> about 36x18)
    assert filled[0, 0] == 230  # background kept
    blank = np.full((40, 40), 255, np.uint8)
    np.testing.assert_array_equal(fill_frame(blank), blank)
    batch = crop_to_ink(torch.from_numpy(np.stack([image, blank]))[:, None])
    assert batch.shape == (2, 1, 40, 40)
    with pytest.raises(ValueError, match=r"uint8 \(N, 1, H, W\)"):
        crop_to_ink(torch.zeros(2, 40, 40))


@needs_fonts
def test_real_world_style_draws_every_effect_and_old_styles_are_unchanged() -> None:
    font = SYSTEM_FONTS[0]
    # Probability 0 draws nothing: the course style renders the same pixels with or without
    # the new fields at their defaults.
    old = render_glyph(font, "g", 48, np.random.default_rng(3), RenderStyle())
    again = render_glyph(font, "g", 48, np.random.default_rng(3), RenderStyle(weight=0.0))
    np.testing.assert_array_equal(old, again)
    plain = RenderStyle.plain()
    base = render_glyph(font, "H", 48, np.random.default_rng(0), plain)
    ink = int((base < 128).sum())
    effects = {
        "fill": RenderStyle(**{**plain.to_dict(), "fill": 1.0}),
        "thick": RenderStyle(**{**plain.to_dict(), "weight": 1.0, "weight_px": (2.0, 2.0)}),
        "outline": RenderStyle(**{**plain.to_dict(), "outline": 1.0, "oversample": 2}),
        "lowres": RenderStyle(**{**plain.to_dict(), "lowres": 1.0, "lowres_px": (12, 12)}),
    }
    drawn = {
        k: render_glyph(font, "H", 48, np.random.default_rng(0), e) for k, e in effects.items()
    }
    rows = np.nonzero((drawn["fill"] < 128).any(axis=1))[0]
    assert rows[-1] - rows[0] + 1 >= 0.7 * 48  # a capital at 65% of the frame now fills it
    assert int((drawn["thick"] < 128).sum()) > 1.2 * ink
    assert not np.array_equal(drawn["outline"], base)
    assert not np.array_equal(drawn["lowres"], base)
    wild = RenderStyle.real_world()
    for k in range(20):
        image = render_glyph(font, ALNUM52[k], 48, np.random.default_rng(k), wild)
        assert image.shape == (48, 48)
        assert image.dtype == np.uint8
        assert image.min() < image.max()


@pytest.mark.parametrize(
    ("name", "symbolic"),
    [
        ("Noto Sans Symbols 2", True),
        ("NotoSansMath-Regular", True),
        ("Font Awesome 6 Free", True),
        ("Material Icons", True),
        ("Noto Color Emoji", True),
        ("libre-barcode-39-latin-400-normal", True),
        ("Mathilde", False),
        ("Silicon Sans", False),
        ("Kapi", False),
        ("Iconic Serif", False),
    ],
)
def test_symbol_families_are_matched_by_whole_words(name: str, symbolic: bool) -> None:
    assert _symbolic_name(name) is symbolic


def _fonts_from_groups(groups: int) -> list[Path]:
    """Font files from at least ``groups`` family groups, or none (a bare machine has two)."""
    picked: dict[str, Path] = {}
    for path in find_font_files():
        info = screen_font(path)
        if isinstance(info, FontInfo):
            picked.setdefault(family_group(info.family), path)
        if len(picked) >= groups:
            return list(picked.values())
    return []


THREE_SPLIT_FONTS = _fonts_from_groups(6)


@pytest.mark.skipif(not THREE_SPLIT_FONTS, reason="needs fonts of 6 family groups")
def test_three_split_build_records_categories_and_reads_back(tmp_path: Path) -> None:
    fonts = THREE_SPLIT_FONTS
    result = build_alnum52(
        tmp_path / "set",
        font_dirs=fonts,
        size=32,
        train_per_class=2,
        held_out={"select": (0.1, 1), "heldout": (0.2, 2)},
        category_of=font_classifier(REPO / "scripts" / "debian_fonts.txt"),
        style=RenderStyle.real_world(),
        workers=1,
        progress=False,
    )
    m = result.manifest
    assert m["format_version"] == 2
    assert m["split_order"] == ["train", "select", "heldout"]
    assert [m["splits"][s]["start"] for s in m["split_order"]] == [0, 104, 156]
    for split in m["split_order"]:
        assert len(m["font_categories"][split]) == len(m["fonts"][split])
        assert sum(m["families_by_category"][split].values()) == len(m["families"][split])
    heldout = Alnum52Rendered(tmp_path / "set", "heldout")
    assert len(heldout) == 104
    assert len(heldout.image_fonts()) == len(heldout.image_categories()) == 104
    assert set(heldout.image_categories()) <= set(CATEGORIES)
    tight = heldout.tight_crop()
    assert tight.images.shape == heldout.images.shape
    assert torch.equal(tight.targets, heldout.targets)
    select = Alnum52Rendered(tmp_path / "set", "select")
    assert select.class_counts() == [1] * 52
    with pytest.raises(ValueError, match="split must be one of"):
        Alnum52Rendered(tmp_path / "set", "valid")
    with pytest.raises(ValueError, match="not 'train'"):
        build_alnum52(tmp_path / "x", font_dirs=fonts, held_out={"train": (0.1, 1)})
