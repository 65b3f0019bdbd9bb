"""Fine-tuning a shipped model on a few of its classes, against training from scratch.

    python benchmarks/fine_tune.py [--case shirts cats_dogs digits] [--budget 60] [--threads 1]
        [--alnum52 ~/.cache/alnumzoo/data/alnum52w_48] [--json benchmarks/results/fine_tune.json]

Cases (each scored off the clock on held-out images of the chosen classes only):

- ``shirts``: ``crnn.fashion_mnist`` on Fashion-MNIST's two most confused classes, Shirt and
  T-shirt/top (train / val / test splits of those classes);
- ``cats_dogs``: ``cifar_cnn.cifar10`` on cat and dog, the pair it confuses most (the JPEG
  copy of CIFAR-10 in ``../shared/data``): trained on the two classes' training images,
  validated on half of their test images (the shipped model has seen every training image,
  so validation must be held out) and scored on the other half;
- ``digits``: ``char_resnet.alnum52`` on the ten digits of a rendered wide-corpus set
  (``--alnum52``: train / select / heldout font families; select and heldout keep only the
  families missing from the shipped model's own training list, as a set rendered later may
  deal families differently).

Per case, at the same budget and seed, one after another:

- ``start``: the shipped weights with the new head, no training (``from_pretrained`` keeps
  the pretrained classifier rows of the chosen classes, so this is already a classifier);
- ``fine_tune``: ``from_pretrained(name, labels=classes)`` then ``fit(...)`` as a user calls
  it (the fine-tune recipe is chosen automatically);
- ``full_rate``: the same, with ``fine_tune=False`` (the default recipe's full rate);
- ``scratch``: ``create_model(arch, labels=classes)`` and ``fit`` with the default recipe.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch
from calibrate_shipped import trained_families, unseen

import alnumzoo
from alnumzoo import evaluate, fit
from alnumzoo.data import Alnum52Rendered, Cifar10, FashionMNIST, InMemoryImageDataset

REPO = Path(__file__).resolve().parents[1]
CIFAR_TAR = REPO.parent / "shared" / "data" / "cifar10_jpeg_q75.tar"
CATS_DOGS = ["cat", "dog"]
DIGITS = list("0123456789")
SHIRTS = ["T-shirt/top", "Shirt"]


def load(
    case: str, alnum52: Path | None
) -> tuple[str, InMemoryImageDataset, InMemoryImageDataset, InMemoryImageDataset]:
    """(shipped variant, train, val, test) of the chosen classes."""
    if case == "shirts":
        splits = [FashionMNIST(split=s).select_classes(SHIRTS) for s in ("train", "val", "test")]
        return "crnn.fashion_mnist", *splits  # type: ignore[return-value]
    if case == "cats_dogs":
        # The shipped model trained on all of CIFAR-10's training images, so validation
        # images for the fine-tune must come from the test set: half of it, the other half
        # scored.
        train = Cifar10(CIFAR_TAR, "train").select_classes(CATS_DOGS)
        held_out = Cifar10(CIFAR_TAR, "test").select_classes(CATS_DOGS)
        order = torch.randperm(len(held_out), generator=torch.Generator().manual_seed(0))
        half = len(held_out) // 2
        val, test = held_out.subset(order[:half]), held_out.subset(order[half:])
        return "cifar_cnn.cifar10", train, val, test
    if case == "digits":
        if alnum52 is None:
            raise SystemExit("--case digits needs --alnum52 (a rendered wide-corpus set)")
        # A set rendered today may deal families to other splits than the shipped model's
        # corpus did: validation and test keep only families the model never trained on.
        seen = trained_families("char_resnet.alnum52")
        splits = []
        for split in ("train", "select", "heldout"):
            data = Alnum52Rendered(alnum52, split)
            kept = data if split == "train" else unseen(data, seen)
            splits.append(kept.select_classes(DIGITS))
        return "char_resnet.alnum52", *splits  # type: ignore[return-value]
    raise SystemExit(f"unknown case {case!r}")


def run_case(case: str, budget: float, alnum52: Path | None) -> dict[str, Any]:
    name, train, val, test = load(case, alnum52)
    classes = list(train.labels.names)
    arch = alnumzoo.get_model_entry(name).arch
    out: dict[str, Any] = {
        "model": name,
        "classes": classes,
        "images": {"train": len(train), "val": len(val), "test": len(test)},
    }
    for variant in ("start", "fine_tune", "full_rate", "scratch"):
        torch.manual_seed(0)
        if variant == "scratch":
            model = alnumzoo.create_model(arch, labels=classes)
        else:
            model = alnumzoo.from_pretrained(name, labels=classes)
        info: dict[str, Any] = {}
        start = time.perf_counter()
        if variant != "start":
            history = fit(model, train, val, budget=budget, progress=False,
                          fine_tune="auto" if variant == "fine_tune" else False)  # fmt: skip
            info = {"recipe": history.recipe, "fine_tuned": history.fine_tuned,
                    "start_val": history.start_acc, "steps": history.steps,
                    "selected": history.selected}  # fmt: skip
        wall = time.perf_counter() - start
        accuracy = evaluate(model, test).accuracy
        out[variant] = {"test_acc": round(accuracy, 4), "wall_s": round(wall, 1), **info}
        print(f"{case:7s} {variant:10s} {accuracy:.4f}  wall {wall:6.1f}s  {info}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--case", nargs="+", choices=("shirts", "cats_dogs", "digits"), default=["shirts"]
    )
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--alnum52", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/fine_tune.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    machine = f"{platform.processor() or platform.machine()}, {args.threads} thread(s)"
    for case in args.case:
        cell = run_case(case, args.budget, args.alnum52)
        # Each case is merged into the file as it finishes, so cases can be run one at a time.
        results = json.loads(args.json.read_text()) if args.json.is_file() else {"cases": {}}
        results["cases"][case] = {**cell, "machine": machine, "torch": torch.__version__,
                                  "budget_s": args.budget}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
