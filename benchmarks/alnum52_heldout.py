"""Measure any alnum52 model on a wide-corpus set's held-out split: plain, TTA, tight-crop,
per font category, the selection split, and calibration (temperature fitted on select).

    python benchmarks/alnum52_heldout.py lite_resnet.alnum52_48 --data DIR \
        --json benchmarks/results/alnum52_wide/lite_resnet.alnum52_48.before.json

``DIR`` is a set written by ``bash scripts/make_alnum52.sh --wide DIR --size N`` at the model's
input size. Used for the shipped models trained before the wide corpus existed (their
"before" figures), and the same measurements as ``train_pretrained.py`` reports after training.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from train_pretrained import measure

import alnumzoo
from alnumzoo.data import Alnum52Rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="registry name with weights, Hub repo id or saved folder")
    parser.add_argument("--data", type=Path, required=True, help="wide rendered alnum52 folder")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--no-tta", action="store_true", help="skip the TTA pass (5x the plain cost)"
    )
    args = parser.parse_args(argv)
    model = alnumzoo.from_pretrained(args.model)
    model.temperature = 1.0
    select = Alnum52Rendered(args.data, "select")
    heldout = Alnum52Rendered(args.data, "heldout")
    figures = {
        "model": args.model,
        "data": str(args.data),
        "manifest_fingerprint": heldout.manifest["fingerprint"],
        **measure(model, select, heldout, None, tta=not args.no_tta),
        "command": f"python benchmarks/alnum52_heldout.py {args.model} --data {args.data}"
        + (" --no-tta" if args.no_tta else ""),
    }
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
