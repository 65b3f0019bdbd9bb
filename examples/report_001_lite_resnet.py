"""Report 001 end to end: LiteResNet on 90x90 characters.

    alnumzoo render-alnum52 data/alnum52_90 --size 90
    python examples/report_001_lite_resnet.py --data data/alnum52_90
    python examples/report_001_lite_resnet.py --quick

The report's final model: stem 32, stages 32→32→64→128, Adam 2e-3, batch 512, slight
rotations, up to 40 epochs → ~96.06% best valid (~94% within 10 minutes on a T4).
"""

from __future__ import annotations

import argparse

import alnumzoo
from alnumzoo.data import open_data

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default="data/alnum52_90")
parser.add_argument("--recipe", default="report", choices=["report", "default"])
parser.add_argument("--budget", default="10m", help="the course's limit was 10 minutes")
parser.add_argument("--quick", action="store_true")
args = parser.parse_args()

if args.quick:
    from _quick import quick_alnum52

    train, valid = quick_alnum52(90)
else:
    splits = open_data(f"alnum52:{args.data}")
    train, valid = splits.train, splits.test

model = alnumzoo.create_model("lite_resnet")
print(
    f"LiteResNet: {alnumzoo.count_parameters(model):,} parameters; flatten size derived "
    f"from the {model.input_size} input"
)
history = alnumzoo.fit(
    model,
    train,
    valid,
    recipe=args.recipe,
    budget=None if args.quick else args.budget,
    epochs=1 if args.quick else None,
    progress=not args.quick,
)
print(
    f"best valid {100 * (history.best_acc or 0):.2f}% after {history.total_s:.0f} s "
    f"(report: 96.06% best, ~94% in 10 minutes)"
)
