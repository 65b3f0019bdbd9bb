"""``alnumzoo render-alnum52`` and ``fetch-fonts``: build the 52-class character set from fonts."""

from __future__ import annotations

import argparse
from typing import Any

from alnumzoo.cli.run import positive_int

__all__ = ["add_commands"]


def _cmd_render(args: argparse.Namespace) -> int:
    from alnumzoo.data import build_alnum52

    result = build_alnum52(
        args.out,
        font_dirs=args.fonts or None,
        size=args.size,
        train_per_class=args.train_per_class,
        valid_per_class=args.valid_per_class,
        seed=args.seed,
        workers=args.workers,
        progress=not args.quiet,
        overwrite=args.overwrite,
    )
    m = result.manifest
    state = "reused cached set" if result.reused else "rendered"
    print(
        f"{state} {result.root}: {len(m['fonts']['train'])} train / {len(m['fonts']['valid'])} "
        f"valid font faces, {len(m['families']['train'])} / {len(m['families']['valid'])} "
        f"families, {len(m['rejected_fonts'])} fonts rejected"
    )
    return 0


def _cmd_fetch_fonts(args: argparse.Namespace) -> int:
    from alnumzoo.data.npm_fonts import fetch_npm_fonts, read_package_list

    folders = fetch_npm_fonts(read_package_list(args.packages), args.out, progress=not args.quiet)
    faces = sum(1 for f in folders for p in f.iterdir() if p.suffix.lower() in (".ttf", ".otf"))
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
