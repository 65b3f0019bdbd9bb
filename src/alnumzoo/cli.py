"""The ``alnumzoo`` command line: list and inspect models, render the alnum52 set."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _cmd_list(args: argparse.Namespace) -> int:
    from alnumzoo.models import get_model_entry, list_models

    names = list_models(args.pattern, pretrained=args.pretrained)
    if not names:
        print(f"no models match {args.pattern!r}", file=sys.stderr)
        return 1
    print(f"{'name':32s} {'params':>10s}  {'input':12s} {'classes':>7s}  task")
    for name in names:
        e = get_model_entry(name)
        shape = "x".join(map(str, e.input_size))
        print(f"{name:32s} {e.num_params:>10,}  {shape:12s} {e.num_classes:>7d}  {e.task}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from alnumzoo.models import get_model_entry

    print(json.dumps(get_model_entry(args.name).to_dict(), indent=2))
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``alnumzoo`` command."""
    parser = argparse.ArgumentParser(prog="alnumzoo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list registered models")
    p.add_argument("pattern", nargs="?", help="shell-style filter, e.g. '*cnn*'")
    p.add_argument("--pretrained", action="store_true", help="only models with weights")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("info", help="show a model's registry metadata as JSON")
    p.add_argument("name")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("render-alnum52", help="render the alnum52 data set from installed fonts")
    p.add_argument("out", help="output folder (images.npy + manifest.json)")
    p.add_argument("--fonts", nargs="*", help="font folders/files (default: system folders)")
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--train-per-class", type=int, default=800)
    p.add_argument("--valid-per-class", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_render)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failure, 2 usage error)."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (KeyError, ValueError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"alnumzoo {args.command}: error: {message}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
