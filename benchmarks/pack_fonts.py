"""Pack the fonts of a rendered alnum52 set small enough to travel to a lent GPU machine.

    python benchmarks/pack_fonts.py DATA/alnum52_48/manifest.json .gpu/fonts.tar.xz --check

The device tool carries at most 64 MiB, and the 1,140 font files of the project's rendered sets
are 212 MiB. Every font the manifest lists (train and valid) is cut down with fontTools'
subsetter to the glyphs of the 52 classes plus ``.notdef``, hinting kept, and written as
``fonts/NNNN-<file name>``: the number keeps the original sorted order, so
``alnumzoo render-alnum52 OUT --fonts fonts`` on the other machine screens the same fonts and
splits the same families to train and valid. A font whose cut-down copy screens differently or
draws any character differently at a few sizes is packed whole. ``--check`` renders two images
of every class and split from the packed fonts and compares them with the rendered set: the
rendering is not bit-exact (FreeType's rasterisation of a few fonts changes with the cut-down
tables), so weights trained on the other machine are measured on the held-out split rendered
here.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import lzma
import tarfile
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from fontTools import subset
from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont

from alnumzoo.data import Alnum52Rendered, build_alnum52, screen_font
from alnumzoo.labels import ALNUM52


def subset_font(path: Path) -> bytes:
    """``path`` cut down to the ALNUM52 glyphs, or unchanged when fontTools cannot write it."""
    try:
        font = TTFont(str(path), lazy=False)
    except (TTLibError, OSError, AssertionError):
        return path.read_bytes()
    options = subset.Options()
    options.hinting = True
    options.notdef_outline = True
    options.name_IDs = ["*"]  # the family and style names decide the train/valid split
    options.layout_features = []
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(ALNUM52))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def draws_the_same(path: Path, data: bytes, sizes: tuple[int, ...] = (20, 36, 64)) -> bool:
    """Whether the cut-down font passes the same screening, with the same names and sizing,
    and draws every character with the same pixels at a few sizes (hinting is size-bound)."""
    original = screen_font(path)
    with tempfile.NamedTemporaryFile(suffix=path.suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        cut = screen_font(tmp.name)
        if isinstance(original, str) or isinstance(cut, str):
            return original == cut
        if replace(cut, path=original.path) != original:
            return False
        for size in sizes:
            a, b = ImageFont.truetype(str(path), size), ImageFont.truetype(tmp.name, size)
            for char in ALNUM52:
                mask_a, mask_b = a.getmask(char), b.getmask(char)
                if mask_a.size != mask_b.size or bytes(mask_a) != bytes(mask_b):
                    return False
    return True


def pack(manifest_path: Path, out: Path) -> tuple[int, int, int]:
    """Write the packed fonts; returns (fonts, bytes before, bytes after compression)."""
    manifest = json.loads(manifest_path.read_text())
    paths = sorted({Path(f[0]) for split in manifest["fonts"].values() for f in split})
    before = kept_whole = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    with lzma.open(tmp, "wb", preset=9) as xz, tarfile.open(fileobj=xz, mode="w") as tar:
        for i, path in enumerate(paths):
            data = subset_font(path)
            if not draws_the_same(path, data):
                data = path.read_bytes()
                kept_whole += 1
            before += path.stat().st_size
            info = tarfile.TarInfo(f"fonts/{i:04d}-{path.name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(out)
    print(f"{kept_whole} font(s) packed whole: their subset drew differently")
    return len(paths), before, out.stat().st_size


def check(manifest_path: Path, packed: Path, per_class: int = 2) -> tuple[int, int, int]:
    """Render ``per_class`` images of every class and split from the packed fonts; return how
    many there are, how many differ from the rendered set next to ``manifest_path``, and the
    largest difference of one pixel (grey levels)."""
    manifest = json.loads(manifest_path.read_text())
    root = manifest_path.parent
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(packed, "r:xz") as tar:
            tar.extractall(tmp, filter="data")
        small = build_alnum52(
            Path(tmp) / "set",
            font_dirs=[Path(tmp) / "fonts"],
            size=int(manifest["size"]),
            train_per_class=per_class,
            valid_per_class=per_class,
            valid_fraction=float(manifest["valid_fraction"]),
            seed=int(manifest["seed"]),
            progress=False,
        ).manifest
        for split in ("train", "valid"):
            if small["families"][split] != manifest["families"][split]:
                raise SystemExit(f"the packed fonts split the families differently ({split})")
        total = differ = largest = 0
        for split in ("train", "valid"):
            original = Alnum52Rendered(root, split)
            again = Alnum52Rendered(Path(tmp) / "set", split)
            for label in range(len(ALNUM52)):
                start = label * original.per_class
                a = original.images[start : start + per_class].numpy().astype(np.int16)
                b = again.images[label * per_class : (label + 1) * per_class].numpy()
                gap = np.abs(a - b)
                total += len(a)
                differ += int(np.any(gap > 0, axis=(1, 2, 3)).sum())
                largest = max(largest, int(gap.max()))
    return total, differ, largest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path, help="manifest.json of a rendered alnum52 set")
    parser.add_argument("out", type=Path, help="the .tar.xz to write")
    parser.add_argument("--check", action="store_true", help="compare re-rendered images")
    parser.add_argument("--check-only", action="store_true", help="only compare (OUT exists)")
    args = parser.parse_args(argv)
    # fontTools notes every table it drops (FFTM, meta); the --check below is what matters.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    if not (args.check_only and args.out.is_file()):
        n, before, after = pack(args.manifest, args.out)
        print(f"{n} fonts, {before / 2**20:.1f} MiB -> {args.out} {after / 2**20:.1f} MiB")
    if args.check or args.check_only:
        total, differ, largest = check(args.manifest, args.out)
        print(
            f"re-rendered from the packed fonts: {total - differ}/{total} images identical, "
            f"the largest pixel difference {largest} grey levels"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
