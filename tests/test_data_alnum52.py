"""alnum52: the course reader (safe .npy loading) and the font renderer."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from alnumzoo import ALNUM52, Alnum52Folder, Alnum52Rendered, build_alnum52
from alnumzoo.data import (
    DatasetFormatError,
    RenderStyle,
    UnsafeArrayError,
    family_group,
    find_font_files,
    load_image_array,
    render_glyph,
    screen_font,
)
from alnumzoo.data.fonts import FontInfo

SYSTEM_FONTS = find_font_files()
needs_fonts = pytest.mark.skipif(not SYSTEM_FONTS, reason="no fonts installed on this machine")


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def _image(seed: int) -> np.ndarray:
    # Asymmetric content, so any flip or rotation by a reader would show.
    img = np.full((1, 100, 100), 255, dtype=np.uint8)
    img[0, 10 + seed : 30 + seed, 5:20] = 0
    img[0, 80, 90] = seed
    return img


def _course_tree(root: Path) -> dict[str, list[np.ndarray]]:
    written: dict[str, list[np.ndarray]] = {}
    for split, codes in (("train", ["79", "30", "41"]), ("valid", ["61"])):
        for code in codes:
            folder = root / split / code
            folder.mkdir(parents=True)
            for n in range(2):
                img = _image(n + int(code, 16) % 7)
                # The course's format: a pickled dict holding the array.
                np.save(folder / f"{n}_{code}.npy", {"image": img}, allow_pickle=True)
                written.setdefault(code, []).append(img)
    return written


def test_course_reader_returns_what_the_course_loader_did(tmp_path: Path) -> None:
    written = _course_tree(tmp_path)
    train = Alnum52Folder(tmp_path, "train")
    assert len(train) == 6
    # Labels come from the hex code, not from folder listing order.
    assert sorted(set(train.targets.tolist())) == [0, 10, 51]
    for i in range(len(train)):
        image, label = train[i]
        assert image.shape == (1, 100, 100)
        assert image.dtype.is_floating_point
        assert 0.0 <= float(image.min()) <= float(image.max()) <= 1.0
        code = ALNUM52.folder(label)
        expected = written[code][i % 2].astype(np.float32) / 255
        np.testing.assert_array_equal(image.numpy(), expected)
    valid = Alnum52Folder(tmp_path, "valid")
    assert valid.targets.tolist() == [ALNUM52.index("a")] * 2


def test_course_reader_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match=r"train/<hex code>"):
        Alnum52Folder(tmp_path / "missing", "train")
    (tmp_path / "train" / "4f").mkdir(parents=True)
    np.save(tmp_path / "train" / "4f" / "0_4f.npy", _image(0))
    with pytest.raises(DatasetFormatError, match="'4f' is not a class folder"):
        Alnum52Folder(tmp_path, "train")
    with pytest.raises(ValueError, match="split must be"):
        Alnum52Folder(tmp_path, "test")  # type: ignore[arg-type]


def test_safe_loader_reads_plain_dict_and_npz(tmp_path: Path) -> None:
    img = _image(3)
    np.save(tmp_path / "plain.npy", img)
    np.save(tmp_path / "dict.npy", {"image": img}, allow_pickle=True)
    np.savez(tmp_path / "arch.npz", image=img)
    for name in ("plain.npy", "dict.npy", "arch.npz"):
        np.testing.assert_array_equal(load_image_array(tmp_path / name), img)


def test_malicious_pickle_is_refused_and_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = np.empty((), dtype=object)
    evil[()] = {"image": _Exploit(marker)}
    np.save(tmp_path / "evil.npy", evil, allow_pickle=True)
    with pytest.raises(UnsafeArrayError, match=r"refusing to unpickle posix\.system"):
        load_image_array(tmp_path / "evil.npy")
    assert not marker.exists()
    # Same through the data set reader.
    folder = tmp_path / "root" / "train" / "30"
    folder.mkdir(parents=True)
    (tmp_path / "evil.npy").rename(folder / "0_30.npy")
    with pytest.raises(UnsafeArrayError):
        Alnum52Folder(tmp_path / "root", "train")
    assert not marker.exists()


def test_safe_loader_rejects_non_arrays(tmp_path: Path) -> None:
    np.save(tmp_path / "strings.npy", {"image": "not pixels"}, allow_pickle=True)
    with pytest.raises(UnsafeArrayError, match="numeric image array"):
        load_image_array(tmp_path / "strings.npy")
    np.save(tmp_path / "other.npy", {"label": 3}, allow_pickle=True)
    with pytest.raises(UnsafeArrayError, match="expected an 'image' array"):
        load_image_array(tmp_path / "other.npy")
    (tmp_path / "junk.npy").write_bytes(b"definitely not numpy")
    with pytest.raises(ValueError, match="not a readable"):
        load_image_array(tmp_path / "junk.npy")


def _ink_rows(img: np.ndarray) -> tuple[int, int]:
    rows = np.where((img < 128).any(axis=1))[0]
    return int(rows[0]), int(rows[-1])


@needs_fonts
def test_glyphs_keep_typographic_size_and_baseline() -> None:
    font = next(f for f in map(screen_font, SYSTEM_FONTS) if isinstance(f, FontInfo))
    still = RenderStyle(
        cap_height=(0.65, 0.65), shift=0.0, scale=(1, 1), slant=(0, 0), rotate=(0, 0),
        stroke_prob=0.0, blur=(0, 0), noise=(0, 0), ink=(0, 0), paper=(255, 255),
    )  # fmt: skip
    rng = np.random.default_rng(0)
    render = {c: render_glyph(font, c, 100, rng, still) for c in "0oHnyq"}
    for img in render.values():
        assert img.shape == (100, 100)
        assert img.dtype == np.uint8
        assert img[0, 0] == 255  # white paper, black ink
        assert img.min() < 64
    top_zero, bottom_zero = _ink_rows(render["0"])
    top_o, bottom_o = _ink_rows(render["o"])
    top_h, bottom_h = _ink_rows(render["H"])
    # Capitals fill ~65% of the frame and are centred; lowercase is smaller, on the same baseline.
    assert 55 <= bottom_h - top_h <= 75
    assert abs((top_h + bottom_h) / 2 - 50) <= 3
    assert (bottom_o - top_o) < 0.85 * (bottom_zero - top_zero)
    assert abs(bottom_o - bottom_h) <= 2
    assert _ink_rows(render["y"])[1] > bottom_h + 5  # descender hangs below the baseline


@needs_fonts
def test_font_screening(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font")
    assert str(screen_font(bogus)).startswith("unreadable")
    font = next(p for p in SYSTEM_FONTS if isinstance(screen_font(p), FontInfo))
    assert "no glyph" in str(screen_font(font, chars=["A", "\ue0ff"])) or "empty" in str(
        screen_font(font, chars=["A", "\ue0ff"])
    )
    assert family_group("Bocuma Angle Dent BRK") == family_group("Bocuma BRK") == "bocuma"
    assert family_group("DejaVu Sans") == family_group("DejaVu Serif")


@pytest.mark.slow  # end to end: a data set build
@needs_fonts
def test_build_is_deterministic_split_by_family_and_cached(tmp_path: Path) -> None:
    kwargs = {"train_per_class": 3, "valid_per_class": 2, "size": 40, "progress": False}
    first = build_alnum52(tmp_path / "a", workers=1, **kwargs)  # type: ignore[arg-type]
    build_alnum52(tmp_path / "b", workers=2, **kwargs)  # type: ignore[arg-type]
    assert not first.reused
    a = np.load(tmp_path / "a" / "images.npy", allow_pickle=False)
    b = np.load(tmp_path / "b" / "images.npy", allow_pickle=False)
    assert a.shape == (52 * 5, 40, 40)
    assert a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    manifest = first.manifest
    train_groups = {family_group(f[1]) for f in manifest["fonts"]["train"]}
    valid_groups = {family_group(f[1]) for f in manifest["fonts"]["valid"]}
    assert train_groups
    assert valid_groups
    assert not train_groups & valid_groups
    assert manifest["seed"] == 0
    assert manifest["classes"] == "".join(ALNUM52)
    again = build_alnum52(tmp_path / "a", workers=1, **kwargs)  # type: ignore[arg-type]
    assert again.reused
    other_seed = build_alnum52(tmp_path / "a", workers=1, seed=1, **kwargs)  # type: ignore[arg-type]
    assert not other_seed.reused

    train = Alnum52Rendered(tmp_path / "b", "train")
    valid = Alnum52Rendered(tmp_path / "b", "valid")
    assert len(train) == 52 * 3
    assert len(valid) == 52 * 2
    assert train.class_counts() == [3] * 52
    image, label = valid[2]
    assert image.shape == (1, 40, 40)
    assert label == 1
    np.testing.assert_array_equal((image[0] * 255).round().byte().numpy(), b[52 * 3 + 2])
    assert not list((tmp_path / "b").glob(".*partial*"))

    # Every image's font is known: re-rendering a row with the font image_fonts names gives
    # the stored image back, and both of a class's images come from different fonts.
    fonts = valid.image_fonts()
    assert len(fonts) == len(valid)
    valid_paths = [f[0] for f in manifest["fonts"]["valid"]]
    assert {f[0] for f in fonts} <= set(valid_paths)
    for row in (0, 1, 2 * 30 + 1):
        label, k = divmod(row, 2)
        info = screen_font(fonts[row][0])
        assert isinstance(info, FontInfo)
        again_image = render_glyph(
            info, ALNUM52[label], 40, np.random.default_rng([0, 1, label, k]), RenderStyle()
        )
        np.testing.assert_array_equal(again_image, b[52 * 3 + row])
    if len(valid_paths) > 1:
        assert fonts[0] != fonts[1]
    del valid.manifest["fonts"]
    with pytest.raises(DatasetFormatError, match="which fonts drew split 'valid'"):
        valid.image_fonts()


def test_rendered_reader_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match="render-alnum52"):
        Alnum52Rendered(tmp_path)


def test_build_without_fonts_says_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="apt-get install"):
        build_alnum52(tmp_path / "out", font_dirs=[tmp_path / "empty"], progress=False)
