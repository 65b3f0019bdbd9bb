"""Race ``fit()`` against the trainers people would use instead, at the same wall-clock budget.

    python benchmarks/peer_race.py --case crnn --budget 60 300 [--threads 1]
        [--contestants fit report hand lightning_fp32 lightning_bf16]
        [--json benchmarks/results/peer_race.json]
    python benchmarks/peer_race.py --case alnum52 --data ~/.cache/alnumzoo/data/alnum52w_48 ...
    python benchmarks/peer_race.py --case crnn --budget 300 --contestants fit \
        --fit-set augment=null --json benchmarks/results/peer_race_ablation.json

Every contestant trains the same architecture from the same initial weights on the same
training images, one after another in one process, with ``--threads`` CPU threads each, and
stops when its budget of wall-clock seconds is spent (set-up included: the clock starts
before the contestant builds its optimizer or loader). The trained weights are then scored
on the held-out split, off the clock, by the same plain evaluation (no TTA for anyone).

Contestants:

- ``fit``: ``fit(model, train, val, budget=...)`` with its default recipe, as a user calls it
  (``val`` is the validation split, which ``fit`` uses to pick weights; it is never scored).
- ``report``: the report's own loop for the architecture: its optimizer, batch size and
  learning-rate steps (``Recipe "report"``), fp32, no augmentation, stopped at the budget.
- ``hand``: a careful hand-written loop: AdamW 3e-3 (weight decay 0.05), batch 128,
  ``OneCycleLR`` over the steps that fit the budget (estimated from the first 20 steps), fp32.
- ``lightning_fp32`` / ``lightning_bf16``: PyTorch Lightning's ``Trainer(max_time=...)`` with
  ``precision="32-true"`` or ``"bf16-mixed"``, Adam 1e-3, batch 128, no schedule (the
  ``bench`` extra: ``pip install 'alnumzoo[bench]'``).

Cases: ``crnn`` (the report layout) on Fashion-MNIST: 54,000 training images, the 6,000
validation images for ``fit``, scored on the 10,000 test images. ``alnum52``: LiteResNet at
48 px on a rendered wide-corpus set (``--data``; ``train``/``select``/``heldout`` splits), the
first ``--per-class`` training images per class, scored on held-out font families.

Results go to ``--json`` cell by cell (a cell is a case at a budget), merged with the cells
already there, so cases can be run one at a time.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler

import alnumzoo
from alnumzoo import evaluate, fit
from alnumzoo._atomic import atomic_write
from alnumzoo.data import Alnum52Rendered, FashionMNIST, InMemoryImageDataset
from alnumzoo.training import get_recipe
from alnumzoo.training.cpu_speed import cpu_has_native_bf16
from alnumzoo.training.optim import build_optimizer

REPO = Path(__file__).resolve().parents[1]
DEFAULT_JSON = REPO / "benchmarks" / "results" / "peer_race.json"


@dataclass(frozen=True)
class Case:
    """One race: the registry name and the three splits."""

    model: str
    train: InMemoryImageDataset
    val: InMemoryImageDataset
    test: InMemoryImageDataset
    description: str


def load_case(name: str, data: Path | None, per_class: int) -> Case:
    """The race's data: Fashion-MNIST for ``crnn``, a rendered alnum52 set for ``alnum52``."""
    if name == "crnn":
        return Case(
            "crnn",
            FashionMNIST(split="train"),
            FashionMNIST(split="val"),
            FashionMNIST(split="test"),
            "CRNN (report layout) on Fashion-MNIST: 54,000 train, 6,000 val (fit only), "
            "10,000 test scored",
        )
    if name == "alnum52":
        if data is None:
            raise SystemExit("--case alnum52 needs --data (a rendered wide-corpus set)")
        train = Alnum52Rendered(data, "train")
        rows = torch.cat([(train.targets == c).nonzero()[:per_class, 0] for c in range(52)])
        return Case(
            "lite_resnet.alnum52_48",
            train.subset(rows.sort().values),
            Alnum52Rendered(data, "select"),
            Alnum52Rendered(data, "heldout"),
            f"LiteResNet 48 px on rendered alnum52: {len(rows)} images of the training families "
            f"(up to {per_class}/class), "
            "the select split for fit, held-out families scored",
        )
    raise SystemExit(f"unknown case {name!r}")


def fresh_model(name: str) -> nn.Module:
    """The architecture with the same initial weights for every contestant."""
    torch.manual_seed(0)
    return alnumzoo.create_model(name)


def as_float(data: InMemoryImageDataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Images in [0, 1] as the models take them, and the labels."""
    return data.images.float().div_(255), data.targets


#: Recipe fields ``--fit-set`` changes for the ``fit`` contestant (an ablation of the default),
#: and ``fit`` keywords ``--fit-arg`` sets (``amp=false``).
FIT_OVERRIDES: dict[str, Any] = {}
FIT_ARGS: dict[str, Any] = {}


def run_fit(case: Case, budget: float, deadline: float) -> tuple[nn.Module, dict[str, Any]]:
    model = fresh_model(case.model)
    recipe = get_recipe("default", case.model).with_overrides(**FIT_OVERRIDES)
    history = fit(model, case.train, case.val, budget=budget, recipe=recipe, progress=False,
                  **FIT_ARGS)  # fmt: skip
    return model, {
        "epochs": len(history.records),
        "steps": history.steps,
        "precision": history.precision,
        "channels_last": history.channels_last,
        "recipe": history.recipe,
    }


def plain_loop(
    model: nn.Module,
    case: Case,
    deadline: float,
    *,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    per_step: LRScheduler | None = None,
    per_epoch: LRScheduler | None = None,
    max_epochs: int | None = None,
) -> dict[str, Any]:
    """Shuffled fp32 epochs of forward, loss, backward, step until the deadline, stepping
    ``per_step`` after every step and ``per_epoch`` after every epoch."""
    x, y = as_float(case.train)
    generator = torch.Generator().manual_seed(0)
    loss_fn = nn.CrossEntropyLoss()
    batches = math.ceil(len(x) / batch_size)
    step = epoch = 0
    model.train()
    while time.perf_counter() < deadline and (max_epochs is None or epoch < max_epochs):
        order = torch.randperm(len(x), generator=generator)
        for b in range(batches):
            if time.perf_counter() >= deadline:
                break
            rows = order[b * batch_size : (b + 1) * batch_size]
            loss = loss_fn(model(x[rows]), y[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if per_step is not None and step < per_step.total_steps:  # type: ignore[attr-defined]
                per_step.step()
        epoch += 1
        if per_epoch is not None:
            per_epoch.step()
    model.eval()
    return {"steps": step, "epochs": round(step / batches, 2)}


def run_report(case: Case, budget: float, deadline: float) -> tuple[nn.Module, dict[str, Any]]:
    model = fresh_model(case.model)
    recipe = get_recipe("report", alnumzoo.get_model_entry(case.model).arch)
    optimizer = build_optimizer(model, recipe, recipe.lr)
    steps = torch.optim.lr_scheduler.StepLR(
        optimizer, step_size=max(1, round(recipe.step_epochs)), gamma=recipe.step_gamma
    )
    info = plain_loop(model, case, deadline, optimizer=optimizer, batch_size=recipe.batch_size,
                      per_epoch=steps, max_epochs=recipe.epochs)  # fmt: skip
    return model, {**info, "recipe": recipe.description}


def run_hand(case: Case, budget: float, deadline: float) -> tuple[nn.Module, dict[str, Any]]:
    batch, peak = 128, 3e-3
    x, y = as_float(case.train)
    loss_fn = nn.CrossEntropyLoss()
    # Time 20 steps on a scratch copy to size the one-cycle schedule to the budget, as a
    # careful user would.
    scratch = fresh_model(case.model).train()
    trial = torch.optim.AdamW(scratch.parameters(), lr=0.0)
    start = time.perf_counter()
    for b in range(20):
        loss = loss_fn(scratch(x[b * batch : (b + 1) * batch]), y[b * batch : (b + 1) * batch])
        trial.zero_grad()
        loss.backward()
        trial.step()
    seconds_per_step = (time.perf_counter() - start) / 20
    total = max(2, int((deadline - time.perf_counter()) / seconds_per_step * 0.97))
    model = fresh_model(case.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak, weight_decay=0.05)
    one_cycle = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peak, total_steps=total)
    info = plain_loop(model, case, deadline, optimizer=optimizer, batch_size=batch,
                      per_step=one_cycle)  # fmt: skip
    return model, {**info, "planned_steps": total}


def run_lightning(
    case: Case, budget: float, deadline: float, precision: str
) -> tuple[nn.Module, dict[str, Any]]:
    import lightning as L  # the bench extra; never a runtime dependency
    from torch.utils.data import DataLoader, TensorDataset

    model = fresh_model(case.model)

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = model
            self.loss_fn = nn.CrossEntropyLoss()

        def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
            x, y = batch
            return self.loss_fn(self.net(x), y)  # type: ignore[no-any-return]

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    x, y = as_float(case.train)
    loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True,
                        generator=torch.Generator().manual_seed(0))  # fmt: skip
    seconds = max(1.0, deadline - time.perf_counter())
    trainer = L.Trainer(
        max_time={"seconds": seconds}, max_epochs=-1, precision=precision,  # type: ignore[arg-type]
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(Module(), loader)
    model.eval()
    return model, {"steps": trainer.global_step, "epochs": trainer.current_epoch}


CONTESTANTS: dict[str, Callable[[Case, float, float], tuple[nn.Module, dict[str, Any]]]] = {
    "fit": run_fit,
    "report": run_report,
    "hand": run_hand,
    "lightning_fp32": lambda c, b, d: run_lightning(c, b, d, "32-true"),
    "lightning_bf16": lambda c, b, d: run_lightning(c, b, d, "bf16-mixed"),
}


def _store(path: Path, key: str, cell: dict[str, Any], machine: dict[str, str]) -> None:
    """Write one cell into the results file, re-reading it first: cases run in parallel
    processes (one thread each) share the file, and contestants run later join the cell."""
    results = json.loads(path.read_text()) if path.exists() else {"cells": {}}
    results.update(machine)
    results["cells"].setdefault(key, {}).update(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(results, indent=2) + "\n"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("crnn", "alnum52"), required=True)
    parser.add_argument("--budget", type=float, nargs="+", default=[60.0])
    parser.add_argument("--contestants", nargs="+", choices=sorted(CONTESTANTS),
                        default=list(CONTESTANTS))  # fmt: skip
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None, help="rendered alnum52 set")
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument(
        "--fit-set", action="append", default=[], metavar="FIELD=VALUE",
        help="change a field of fit's default recipe (JSON value), e.g. ema_decay=0 or "
        "augment=null; the contestant is then named fit[FIELD=VALUE]",
    )  # fmt: skip
    parser.add_argument(
        "--fit-arg", action="append", default=[], metavar="NAME=VALUE",
        help="a keyword of fit() (JSON value), e.g. amp=false; named as --fit-set is",
    )  # fmt: skip
    args = parser.parse_args(argv)
    for items, target in ((args.fit_set, FIT_OVERRIDES), (args.fit_arg, FIT_ARGS)):
        for item in items:
            field, _, value = item.partition("=")
            target[field] = json.loads(value)
    changes = [*args.fit_set, *args.fit_arg]
    fit_name = f"fit[{','.join(changes)}]" if changes else "fit"
    torch.set_num_threads(args.threads)
    case = load_case(args.case, args.data, args.per_class)
    machine = {
        "machine": f"{platform.processor() or platform.machine()}, {args.threads} thread(s), "
        f"native bf16: {cpu_has_native_bf16()}",
        "torch": torch.__version__,
    }
    for budget in args.budget:
        key = f"{args.case}@{budget:g}s"
        cell: dict[str, Any] = {"case": case.description}
        for name in args.contestants:
            torch.set_num_threads(args.threads)
            start = time.perf_counter()
            model, info = CONTESTANTS[name](case, budget, start + budget)
            wall = time.perf_counter() - start
            torch.set_num_threads(args.threads)
            accuracy = evaluate(model, case.test).accuracy
            shown = fit_name if name == "fit" else name
            cell[shown] = {"accuracy": round(accuracy, 4), "wall_s": round(wall, 1), **info}
            print(f"{args.case} {budget:g}s {name:15s} {accuracy:.4f}  wall {wall:6.1f}s  {info}",
                  flush=True)  # fmt: skip
            _store(args.json, key, cell, machine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
