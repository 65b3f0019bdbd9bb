"""BottleneckCNN on rendered alnum52, report recipe vs default recipe, side by side.

    python benchmarks/recipe_race.py --data data/alnum52 [--per-class 200] [--val-per-class 50]

1. The report recipe (Adam 1e-4, batch 50, no augmentation) trains one epoch; its validation
   accuracy A and wall time T are the bar.
2. The default recipe trains with a budget of T seconds, cut into pieces of ``--piece`` steps
   (``max_steps`` + exact resume); after each piece its EMA weights are evaluated outside the
   clock, giving the training time at which it first reaches A.

Both use the same training subset (``--per-class`` images per class, to keep the run to
minutes on a CPU) and the same validation subset of unseen font families. Prints one JSON
object with the times, accuracies and training throughputs.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import torch

import alnumzoo
from alnumzoo.data import Alnum52Rendered, InMemoryImageDataset
from alnumzoo.training import evaluate, fit, load_checkpoint


def per_class(data: InMemoryImageDataset, n: int, seed: int) -> InMemoryImageDataset:
    g = torch.Generator().manual_seed(seed)
    picks = []
    for c in range(len(data.labels)):
        idx = (data.targets == c).nonzero()[:, 0]
        picks.append(idx[torch.randperm(len(idx), generator=g)[:n]])
    return data.subset(torch.cat(picks))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/alnum52"))
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--val-per-class", type=int, default=50)
    parser.add_argument("--piece", type=int, default=25, help="default-recipe steps per piece")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    train = per_class(Alnum52Rendered(args.data, "train"), args.per_class, 0)
    val = per_class(Alnum52Rendered(args.data, "valid"), args.val_per_class, 1)

    torch.manual_seed(0)
    report_model = alnumzoo.create_model("bottleneck_cnn")
    start = time.perf_counter()
    report = fit(report_model, train, None, epochs=1, recipe="report", progress=False)
    report_s = time.perf_counter() - start
    bar = evaluate(report_model, val).accuracy

    torch.manual_seed(0)
    model = alnumzoo.create_model("bottleneck_cnn")
    probe = copy.deepcopy(model)
    reached_s: float | None = None
    curve: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        ck = Path(tmp) / "race.pt"
        steps = 0
        while True:
            steps += args.piece
            history = fit(model, train, None, budget=report_s, checkpoint=ck,
                          resume=ck if ck.exists() else None, max_steps=steps,
                          progress=False)  # fmt: skip
            state = load_checkpoint(ck)
            ema = {k.removeprefix("module."): v for k, v in state["ema"].items()
                   if k.startswith("module.")}  # fmt: skip
            probe.load_state_dict(ema)
            # fit() keeps whichever of the raw and EMA weights validates better.
            acc = max(evaluate(probe, val).accuracy, evaluate(model, val).accuracy)
            curve.append((round(state["spent_s"], 1), round(acc, 4)))
            if reached_s is None and acc >= bar:
                reached_s = state["spent_s"]
            if history.stop_reason != "max_steps":
                break
    default_rate = [r.images_per_s for r in history.records]
    result = {
        "train_images": len(train),
        "val_images": len(val),
        "threads": torch.get_num_threads(),
        "report": {
            "epoch_s": round(report_s, 1),
            "val_acc_after_1_epoch": round(bar, 4),
            "images_per_s": round(report.records[-1].images_per_s),
        },
        "default": {
            "budget_s": round(report_s, 1),
            "seconds_to_reach_report_acc": None if reached_s is None else round(reached_s, 1),
            "final_val_acc": curve[-1][1],
            "images_per_s": round(sum(default_rate) / max(len(default_rate), 1)),
            "curve_s_acc": curve,
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
