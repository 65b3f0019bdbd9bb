"""``alnumzoo export``: a model as an ONNX or TorchScript file with its preprocessing contract."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_commands"]


def _cmd_export(args: argparse.Namespace) -> int:
    from alnumzoo import export, from_pretrained

    model = from_pretrained(args.model)
    result = export(model, args.out, format=args.format)
    checked = (
        f"matches the PyTorch model to {result.max_abs_diff:.1e}"
        if result.max_abs_diff is not None
        else "not checked (pip install onnxruntime to check it)"
    )
    print(f"exported {args.model} to {result.path} ({args.format}; {checked}); "
          f"preprocessing contract: {result.contract}")  # fmt: skip
    return 0


def add_commands(sub: Any) -> None:
    """Register ``export``."""
    p = sub.add_parser("export", help="write a model as ONNX or TorchScript for other runtimes")
    p.add_argument("model", help="registry name with weights, Hub repo id or saved folder")
    p.add_argument("out", help="file to write (e.g. model.onnx); the contract goes to OUT.json")
    p.add_argument("--format", choices=("onnx", "torchscript"), default="onnx")
    p.set_defaults(func=_cmd_export)
