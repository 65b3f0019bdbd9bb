"""Benchmark: does fit() end within its budget, final evaluation included?

    python benchmarks/budget_keeping.py [--budgets 20 60] [--threads 2] [--load 1]

Trains the report-layout CRNN on Fashion-MNIST (54,000 train / 6,000 validation images, the
validation set far too large to score whole, with TTA, inside a 20 s CPU budget) for each
budget and prints the wall time of the ``fit`` call, ``History.total_s`` and how many
validation images the final evaluation scored. Target: wall time <= budget + 10%.

``--load N`` keeps N other processes busy with one-thread matrix products for the whole run,
the busy machine on which a budget is hardest to keep.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

import torch

import alnumzoo
from alnumzoo.data import FashionMNIST


def _burn() -> None:
    torch.set_num_threads(1)
    a = torch.randn(256, 256)
    while True:
        a = torch.tanh(a @ a)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[20.0, 60.0])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--load", type=int, default=0, help="busy processes beside the run")
    args = parser.parse_args(argv)
    burners = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(args.load)]
    for burner in burners:
        burner.start()
    try:
        return _measure(args.budgets, args.threads)
    finally:
        for burner in burners:
            burner.terminate()


def _measure(budgets: list[float], threads: int | None) -> int:
    if threads:
        torch.set_num_threads(threads)
    train, val = FashionMNIST(split="train"), FashionMNIST(split="val")
    torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)  # torch's one-time imports
    print(
        f"{'budget s':>8s} {'wall s':>7s} {'total_s':>7s} {'ratio':>6s} {'final eval images':>18s}"
    )
    for budget in budgets:
        torch.manual_seed(0)
        model = alnumzoo.create_model("crnn")
        start = time.perf_counter()
        history = alnumzoo.fit(model, train, val, budget=budget, progress=False)
        wall = time.perf_counter() - start
        images = history.final_eval_images or len(val)
        print(
            f"{budget:8.0f} {wall:7.1f} {history.total_s:7.1f} {wall / budget:6.2f} {images:18,d}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
