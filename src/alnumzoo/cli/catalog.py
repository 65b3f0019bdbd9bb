"""``alnumzoo list`` and ``alnumzoo info``: what the zoo holds."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_commands"]


def _cmd_list(args: argparse.Namespace) -> int:
    from alnumzoo.models import get_model_entry, list_models

    names = list_models(args.pattern, pretrained=args.pretrained)
    if not names:
        print(f"no models match {args.pattern!r}", file=sys.stderr)
        return 1
    print(f"{'name':34s} {'params':>10s}  {'input':10s} {'classes':>7s}  {'top1':>6s}  task")
    for name in names:
        e = get_model_entry(name)
        shape = "x".join(map(str, e.input_size))
        top1 = e.metrics.get("top1")
        score = f"{top1:6.2f}" if top1 is not None else "     -"
        print(f"{name:34s} {e.num_params:>10,}  {shape:10s} {e.num_classes:>7d}  {score}  {e.task}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from alnumzoo.models import get_model_entry

    info: dict[str, Any] = get_model_entry(args.name).to_dict()
    print(json.dumps(info, indent=2))
    return 0


def add_commands(sub: Any) -> None:
    """Register ``list`` and ``info`` on the ``alnumzoo`` sub-parser collection."""
    p = sub.add_parser("list", help="list models and pretrained variants")
    p.add_argument("pattern", nargs="?", help="shell-style filter, e.g. '*cnn*'")
    p.add_argument("--pretrained", action="store_true", help="only variants with weights")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("info", help="a model's metadata (params, input, labels, metrics) as JSON")
    p.add_argument("name", help="registry name, e.g. bottleneck_cnn.alnum52")
    p.set_defaults(func=_cmd_info)
