"""What a time budget buys: the same model trained for doubling budgets, side by side.

    python examples/time_budget.py --budgets 30s 60s 120s
    python examples/time_budget.py --quick

Each run's learning-rate schedule decays to zero exactly when its budget ends, so every
column is a finished training run, not a snapshot of a longer one.
"""

from __future__ import annotations

import argparse

import alnumzoo
from alnumzoo.data import open_data

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--arch", default="crnn")
parser.add_argument("--budgets", nargs="+", default=["30s", "60s", "120s"])
parser.add_argument("--quick", action="store_true")
args = parser.parse_args()

splits = open_data("fashion-mnist")
train, val, test = splits.train, splits.val, splits.test
if args.quick:
    from _quick import head

    train, val, test = head(train, 512), head(val, 128), head(test, 128)
    args.budgets = ["2s", "4s"]

print(f"{'budget':>8s} {'spent':>7s} {'epochs':>7s} {'img/s':>8s} {'test top-1':>10s}")
for budget in args.budgets:
    model = alnumzoo.create_model(args.arch)
    history = alnumzoo.fit(model, train, val, budget=budget, progress=False)
    accuracy = alnumzoo.evaluate(model, test).accuracy
    rate = history.records[0].images_per_s if history.records else 0.0
    print(
        f"{budget:>8s} {history.total_s:6.1f}s {len(history.records):7d} {rate:8,.0f} "
        f"{100 * accuracy:9.2f}%"
    )
