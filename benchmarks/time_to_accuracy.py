"""Race the default recipe against each report's recipe to the same held-out accuracy.

    python benchmarks/time_to_accuracy.py [--arch bottleneck_cnn ...] [--threads 1] [--goal 3]
        [--data-root ~/.cache/alnumzoo/data] [--out benchmarks/results/time_to_accuracy.json]
        [--reuse-report] [--full] [--default-set FIELD=VALUE ...]

Per architecture, in one run and on one machine:

1. The report recipe trains on its full report schedule (epochs, learning-rate steps) but is
   stopped after a fixed fraction of it (``FRACTIONS``: the first k of its epochs), one epoch
   per piece (``max_steps`` + exact resume). After every piece its weights are scored on the
   held-out split outside the clock. The **target** is the accuracy it reaches after those k
   epochs; ``report_s`` is the training time at which it first reached it. With ``--full`` the
   report recipe runs its whole schedule and the target is its accuracy at the end, the
   time-to-accuracy rule of DAWNBench and MLPerf (results go to ``--out``, by default
   ``time_to_accuracy_full.json`` then).
2. The default recipe trains with a wall-clock budget of ``report_s / goal`` (its schedule
   decays to zero when that budget ends), in pieces of about a twentieth of the budget, scored
   the same way (the better of its raw and EMA weights, as ``fit`` would return).
   Each recipe is read the way it evaluates, with its own test-time augmentation
   (``Recipe.tta``: none for the report recipes, flips or shifts for the defaults), as
   airbench scores its runs; the scoring is outside the clock for both.
   ``default_s`` is the training time at which it first reached the target, or ``None`` when
   it did not within that budget (the speedup is then below ``goal``; a smaller ``--goal``
   with ``--reuse-report`` measures it).

``--default-set FIELD=VALUE`` (JSON value, repeatable) changes a field of the default recipe,
to find by measuring which recipe wins. Such a run, or one with a ``--goal`` other than 3, is
stored as ``ARCH[FIELD=VALUE,...,goal=G]`` beside ``ARCH``, whose report curve it reuses with
``--reuse-report``.

Times are ``fit``'s own clock (training, the CPU probe and checkpoints; the scoring is outside
it). ``speedup = report_s / default_s``. Both recipes use the same data, seed and machine, and
both get ``fit``'s CPU speed choices, so the race compares recipes, not loops.

Data: alnum52 renders under ``--data-root`` (``alnum52`` at 100 px for BottleneckCNN,
``alnum52_90`` for LiteResNet; the first 800 training images per class, the report's epoch,
and 50 per class of the valid split, i.e. unseen font families); Fashion-MNIST's
train/val split (the val split is held out); CIFAR-10's JPEG copy (train / test).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from train_pretrained import per_class_rows  # the same balanced sample as the shipped runs

import alnumzoo
from alnumzoo import evaluate, fit
from alnumzoo._atomic import atomic_write
from alnumzoo.data import Alnum52Rendered, Cifar10, FashionMNIST, InMemoryImageDataset
from alnumzoo.training import get_recipe, load_checkpoint
from alnumzoo.training.cpu_speed import cpu_has_native_bf16

REPO = Path(__file__).resolve().parents[1]
CIFAR_TAR = REPO.parent / "shared" / "data" / "cifar10_jpeg_q75.tar"


@dataclass(frozen=True)
class Race:
    """One architecture's race: the registry name, its data and the share of the report's
    schedule that sets the target (``epochs`` of the report's ``total`` epochs)."""

    model: str
    data: str
    epochs: int


RACES: dict[str, Race] = {
    "bottleneck_cnn": Race("bottleneck_cnn", "alnum52", 2),  # 2 of 12 report epochs
    "lite_resnet": Race("lite_resnet", "alnum52_90", 5),  # 5 of 40
    "crnn": Race("crnn", "fashion_mnist", 1),  # 1 of 15
    "cifar_cnn": Race("cifar_cnn", "cifar10", 2),  # 2 of 30
}


def per_class(data: InMemoryImageDataset, n: int) -> InMemoryImageDataset:
    """The first ``n`` images of every class."""
    return data.subset(per_class_rows(data, n))


def load(kind: str, data_root: Path) -> tuple[InMemoryImageDataset, InMemoryImageDataset, str]:
    """(train, held-out, name of the held-out split)."""
    if kind.startswith("alnum52"):
        root = data_root / kind
        train = per_class(Alnum52Rendered(root, "train"), 800)
        return (
            train,
            per_class(Alnum52Rendered(root, "valid"), 50),
            "valid, 50/class (unseen fonts)",
        )
    if kind == "fashion_mnist":
        return FashionMNIST(split="train"), FashionMNIST(split="val"), "val (6,000)"
    if kind == "cifar10":
        return Cifar10(CIFAR_TAR, "train"), Cifar10(CIFAR_TAR, "test"), "test (JPEG q75)"
    raise ValueError(kind)


def score(
    model: torch.nn.Module,
    state: dict[str, Any],
    held_out: InMemoryImageDataset,
    tta: str | None,
) -> float:
    """Held-out accuracy of the weights ``fit`` would return now (raw or EMA, the better),
    read the way the recipe evaluates: with its test-time augmentation ``tta``."""
    probe = copy.deepcopy(model)
    probe.load_state_dict(state["model"])
    best = evaluate(probe, held_out, tta=tta).accuracy
    if state.get("ema") is not None:
        ema = {k.removeprefix("module."): v for k, v in state["ema"].items() if k != "n_averaged"}
        probe.load_state_dict(ema)
        best = max(best, evaluate(probe, held_out, tta=tta).accuracy)
    return best


def run_in_pieces(
    name: str,
    train: InMemoryImageDataset,
    held_out: InMemoryImageDataset,
    piece_steps: int,
    *,
    target: float | None,
    **fit_kwargs: Any,
) -> tuple[list[tuple[float, float]], float | None]:
    """Train in pieces of ``piece_steps``; return the (seconds, accuracy) curve and the
    seconds at which ``target`` was first reached."""
    torch.manual_seed(0)
    model = alnumzoo.create_model(name)
    curve: list[tuple[float, float]] = []
    reached: float | None = None
    with tempfile.TemporaryDirectory() as tmp:
        ck = Path(tmp) / "race.pt"
        steps = 0
        while True:
            steps += piece_steps
            history = fit(
                model, train, None, checkpoint=ck, resume=ck if ck.exists() else None,
                max_steps=steps, progress=False, **fit_kwargs,
            )  # fmt: skip
            state = load_checkpoint(ck)
            recipe = get_recipe(fit_kwargs["recipe"], name)
            acc = score(model, state, held_out, recipe.tta)
            curve.append((round(float(state["spent_s"]), 1), round(acc, 4)))
            print(f"  {recipe.name}: {curve[-1][0]:7.1f} s  {acc:.4f}", flush=True)
            if target is not None and reached is None and acc >= target:
                reached = float(state["spent_s"])
                break
            if history.stop_reason != "max_steps":
                break
    return curve, reached


def race(
    arch: str,
    data_root: Path,
    goal: float,
    earlier: dict[str, Any] | None = None,
    *,
    full: bool = False,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec = RACES[arch]
    train, held_out, held_out_name = load(spec.data, data_root)
    report = get_recipe("report", arch)
    steps_per_epoch = len(train) // report.batch_size
    epochs = report.epochs if full else spec.epochs
    if earlier is not None and earlier.get("machine") == machine():
        # The report recipe's side is deterministic: reuse its curve from an earlier run on
        # this machine (--reuse-report) and race only the default recipe.
        report_curve = [tuple(point) for point in earlier["report_curve_s_acc"]]
    else:
        report_curve = run_report(spec, train, held_out, steps_per_epoch, report.epochs, epochs)
    target = report_curve[-1][1]
    report_s = next(s for s, acc in report_curve if acc >= target)
    budget = report_s / goal
    # About twenty scored pieces in the budget, at the report recipe's images/s as an estimate.
    images_per_s = epochs * steps_per_epoch * report.batch_size / report_curve[-1][0]
    default = get_recipe("default", arch).with_overrides(**(changes or {}))
    piece = max(5, int(budget * images_per_s / default.batch_size / 20))
    default_curve, default_s = run_in_pieces(
        spec.model, train, held_out, piece, target=target, recipe=default, budget=budget
    )
    return {
        "report_s": round(report_s, 1),
        "default_s": None if default_s is None else round(default_s, 1),
        "speedup": None if default_s is None else round(report_s / default_s, 2),
        "target": target,
        "machine": machine(),
        "goal": goal,
        "target_rule": (
            f"report recipe's held-out accuracy at the end of its full {report.epochs}-epoch "
            "schedule"
            if full
            else f"report recipe's held-out accuracy after {epochs} of its {report.epochs} epochs"
        ),
        "held_out": held_out_name,
        "scored_with_tta": {"report": report.tta, "default": default.tta},
        "train_images": len(train),
        "default_budget_s": round(budget, 1),
        "report_curve_s_acc": report_curve,
        "default_curve_s_acc": default_curve,
        "reached": default_s is not None,
        "best_default_acc": max(acc for _, acc in default_curve),
    }


def run_report(
    spec: Race,
    train: InMemoryImageDataset,
    held_out: InMemoryImageDataset,
    steps: int,
    total: int,
    stop_after: int,
) -> list[tuple[float, float]]:
    """The report recipe over its full schedule of ``total`` epochs, stopped after
    ``stop_after``, scored after each epoch."""
    torch.manual_seed(0)
    model = alnumzoo.create_model(spec.model)
    tta = get_recipe("report", spec.model).tta
    curve: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        ck = Path(tmp) / "report.pt"
        for epoch in range(1, stop_after + 1):
            fit(
                model, train, None, recipe="report", epochs=total, checkpoint=ck,
                resume=ck if ck.exists() else None, max_steps=epoch * steps, progress=False,
            )  # fmt: skip
            state = load_checkpoint(ck)
            acc = score(model, state, held_out, tta)
            curve.append((round(float(state["spent_s"]), 1), round(acc, 4)))
            print(f"  report: epoch {epoch} {curve[-1][0]:7.1f} s  {acc:.4f}", flush=True)
    return curve


def machine() -> str:
    """CPU model, threads and whether it has native bf16."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{model}, {torch.get_num_threads()} thread(s), native bf16: {cpu_has_native_bf16()}, "
        f"torch {torch.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", nargs="*", choices=sorted(RACES), default=list(RACES))
    parser.add_argument("--data-root", type=Path, default=REPO / "data")
    parser.add_argument("--goal", type=float, default=3.0, help="speedup the budget allows")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--reuse-report",
        action="store_true",
        help="take the report recipe's curve from --out when it was measured on this machine",
    )
    parser.add_argument(
        "--full", action="store_true", help="target: the report recipe's full-schedule accuracy"
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--default-set", action="append", default=[], metavar="FIELD=VALUE",
        help="change a field of the default recipe (JSON value), e.g. lr=0.002",
    )  # fmt: skip
    args = parser.parse_args(argv)
    changes = {}
    for item in args.default_set:
        field, _, value = item.partition("=")
        changes[field] = json.loads(value)
    variations = [*args.default_set, *([f"goal={args.goal:g}"] if args.goal != 3.0 else [])]
    suffix = f"[{','.join(variations)}]" if variations else ""
    if args.out is None:
        name = "time_to_accuracy_full.json" if args.full else "time_to_accuracy.json"
        args.out = REPO / "benchmarks" / "results" / name
    if args.threads:
        torch.set_num_threads(args.threads)
    results: dict[str, Any] = json.loads(args.out.read_text()) if args.out.is_file() else {}
    for arch in args.arch:
        print(f"== {arch}", flush=True)
        earlier = results.get(arch) if args.reuse_report else None
        key = arch + suffix
        results[key] = race(
            arch, args.data_root, args.goal, earlier, full=args.full, changes=changes
        )
        if changes:
            results[key]["default_changes"] = changes
        summary = {k: results[key][k] for k in ("report_s", "default_s", "speedup", "target")}
        print(json.dumps(summary), flush=True)
        _store(args.out, key, results[key])
    return 0


def _store(path: Path, key: str, entry: dict[str, Any]) -> None:
    """Write one race into the results file, re-reading it first: races run side by side in
    two processes share the file, and one that read it at its start would drop the other's
    result."""
    latest = json.loads(path.read_text()) if path.is_file() else {}
    latest[key] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(latest, indent=1) + "\n"))


if __name__ == "__main__":
    raise SystemExit(main())
