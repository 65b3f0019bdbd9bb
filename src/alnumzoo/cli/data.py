"""``alnumzoo render-alnum52`` and ``fetch-fonts``: build the 52-class character set from fonts."""

from __future__ import annotations

import argparse
from typing import Any

from alnumzoo.cli.run import positive_int

__all__ = ["add_commands"]


def held_out_split(text: str) -> tuple[str, float, int]:
    """``NAME:FRACTION:PER_CLASS`` for ``--split`` (e.g. ``heldout:0.17:300``)."""
    parts = text.split(":")
    try:
        name, fraction, per_class = parts[0], float(parts[1]), int(parts[2])
    except (IndexError, ValueError):
        raise argparse.ArgumentTypeError(
            f"expected NAME:FRACTION:PER_CLASS (e.g. heldout:0.17:300), got {text!r}"
        ) from None
    if len(parts) != 3 or not name or name == "train" or not 0 < fraction < 1 or per_class < 1:
        raise argparse.ArgumentTypeError(
            f"expected NAME:FRACTION:PER_CLASS with a name other than train, 0 < FRACTION < 1 "
            f"and PER_CLASS >= 1, got {text!r}"
        )
    return name, fraction, per_class


def _cmd_render(args: argparse.Namespace) -> int:
    from alnumzoo.data import RenderStyle, build_alnum52
    from alnumzoo.data.font_categories import font_classifier

    styles = {"course": RenderStyle(), "real-world": RenderStyle.real_world()}
    result = build_alnum52(
        args.out,
        font_dirs=args.fonts or None,
        size=args.size,
        train_per_class=args.train_per_class,
        valid_per_class=args.valid_per_class,
        held_out={n: (f, k) for n, f, k in args.split} if args.split else None,
        category_of=font_classifier(args.debian_categories) if args.split else None,
        style=styles[args.style],
        seed=args.seed,
        workers=args.workers,
        progress=not args.quiet,
        overwrite=args.overwrite,
    )
    m = result.manifest
    state = "reused cached set" if result.reused else "rendered"
    splits = m.get("split_order", ["train", "valid"])
    faces = " / ".join(f"{len(m['fonts'][s])} {s}" for s in splits)
    families = " / ".join(str(len(m["families"][s])) for s in splits)
    print(
        f"{state} {result.root}: {faces} font faces, {families} families, "
        f"{len(m['rejected_fonts'])} fonts rejected"
    )
    return 0


def _cmd_fetch_fonts(args: argparse.Namespace) -> int:
    from alnumzoo.data.fonts import FONT_SUFFIXES
    from alnumzoo.data.npm_fonts import fetch_npm_fonts, read_package_list

    folders = fetch_npm_fonts(read_package_list(args.packages), args.out, progress=not args.quiet)
    faces = sum(1 for f in folders for p in f.iterdir() if p.suffix.lower() in FONT_SUFFIXES)
    print(f"{len(folders)} font packages, {faces} faces in {args.out}")
    return 0


def add_commands(sub: Any) -> None:
    """Register ``render-alnum52`` and ``fetch-fonts``."""
    p = sub.add_parser("render-alnum52", help="render the alnum52 data set from installed fonts")
    p.add_argument("out", help="output folder (images.npy + manifest.json)")
    p.add_argument("--fonts", nargs="*", help="font folders/files (default: system folders)")
    p.add_argument(
        "--size", type=positive_int, default=100, help="image side in pixels (default 100)"
    )
    p.add_argument("--train-per-class", type=positive_int, default=800)
    p.add_argument("--valid-per-class", type=positive_int, default=300)
    p.add_argument(
        "--split",
        type=held_out_split,
        action="append",
        metavar="NAME:FRACTION:PER_CLASS",
        help="a held-back split instead of 'valid' (repeatable, in order), e.g. "
        "--split select:0.08:100 --split heldout:0.17:300",
    )
    p.add_argument(
        "--style",
        choices=("course", "real-world"),
        default="course",
        help="variation of the rendered images: the course data's look, or that plus "
        "frame-filling, weight, outline, shadow, wear and low-resolution glyphs",
    )
    p.add_argument(
        "--debian-categories",
        metavar="FILE",
        help="Debian font package list with categories (scripts/debian_fonts.txt): splits are "
        "stratified by category and the manifest records each font's",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--workers", type=positive_int, default=None, help="render processes (default: CPUs)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing set")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_render)
    p = sub.add_parser(
        "fetch-fonts", help="download font packages from npm (npm pack) for render-alnum52"
    )
    p.add_argument("packages", help="text file of npm specs, one per line (scripts/npm_fonts.txt)")
    p.add_argument("out", help="folder to fill, one sub-folder per package")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_fetch_fonts)
