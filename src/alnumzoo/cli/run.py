"""``alnumzoo predict``, ``train`` and ``evaluate``: use and make models."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sized
from pathlib import Path
from typing import Any

__all__ = ["add_commands"]

_DATA_HELP = (
    "KIND[:ROOT]: fashion-mnist, alnum52:DIR, cifar10:DIR_OR_TAR or dogs:DIR "
    "(e.g. --data cifar10:cifar10_jpeg_q75.tar)"
)


def _cmd_predict(args: argparse.Namespace) -> int:
    from alnumzoo import from_pretrained
    from alnumzoo.inference._predict import iter_predict

    model = from_pretrained(args.model)
    # Streamed: each batch is printed as soon as it is classified, so memory stays flat and
    # the first line comes at once however many files there are.
    predictions = iter_predict(
        model,
        [Path(p) for p in args.images],
        topk=args.topk,
        tta=args.tta,
        batch_size=args.batch_size,
        recursive=args.recursive,
    )
    if args.json:
        print("[")
        for n, p in enumerate(predictions):
            text = json.dumps(p.__dict__, default=list)
            print(("  " if n == 0 else ", ") + text, flush=True)
        print("]")
        return 0
    for p in predictions:
        ranked = ", ".join(f"{label!r} {prob:.1%}" for label, prob in p.topk)
        print(f"{p.source}: {ranked}", flush=True)
        for note in p.notes:
            print(f"    note: {note}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from alnumzoo import evaluate, from_pretrained
    from alnumzoo.data import open_data

    model = from_pretrained(args.model)
    splits = open_data(args.data)
    result = evaluate(
        model, splits.test, tta=args.tta, batch_size=args.batch_size, progress=not args.quiet
    )
    print(
        f"{args.model} on {args.data} ({splits.test_name}, {result.num_samples:,} images"
        f"{', TTA ' + result.tta if result.tta else ''}): top-1 {100 * result.accuracy:.2f}%, "
        f"loss {result.loss:.4f}"
    )
    confused = result.most_confused(args.confused)
    if confused:
        print("most confused (true -> predicted: count): " + ", ".join(
            f"{t!r}->{p!r}: {n}" for t, p, n in confused
        ))  # fmt: skip
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from alnumzoo import create_model, evaluate, fit, from_pretrained, save_pretrained
    from alnumzoo.data import open_data
    from alnumzoo.hub.save import model_card
    from alnumzoo.training import Recipe, TrainingInterrupted

    splits = open_data(args.data)
    # --seed covers the new model's weights too, not only the data order and augmentation.
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.init:
        # The data's classes decide the head: the body keeps its trained weights, and a new
        # head is made only when the classes differ from the weights' own.
        labels = getattr(splits.train, "labels", None)
        model = from_pretrained(args.init, labels=labels)
        if model.arch != args.arch.split(".", 1)[0]:
            raise ValueError(f"--init {args.init} holds a {model.arch}, not a {args.arch}")
        print(f"starting from the weights of {args.init}")
        model_to_train: Any = model
    else:
        model_to_train = create_model(args.arch)
    model = model_to_train
    out = Path(args.out)  # created by the first write, so a run that fails early leaves none
    checkpoint = out / "checkpoint.pt"
    try:
        history = fit(
            model,
            splits.train,
            splits.val,
            budget=args.budget,
            epochs=args.epochs,
            target=args.target,
            recipe=args.recipe,
            device=args.device,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            checkpoint=checkpoint,
            # As in the API: --resume with no checkpoint is an error, never a silent fresh start.
            resume=checkpoint if args.resume else None,
            progress=not args.quiet,
        )
    except TrainingInterrupted as exc:
        # The library's hint is Python; at the command line the way back is --resume.
        again = " ".join(a for a in sys.argv[1:] if a != "--resume")
        print(
            f"alnumzoo train: interrupted at step {exc.step}; checkpoint {checkpoint} written; "
            f"continue with: alnumzoo {again} --resume",
            file=sys.stderr,
        )
        return 1
    history.to_csv(out / "history.csv")
    if args.no_test:
        saved = save_pretrained(model, out / "model")
        print(f"trained {args.arch} for {history.total_s:.0f} s ({history.stop_reason}); test "
              f"evaluation skipped (--no-test); saved {saved}")  # fmt: skip
        return 0
    # The budget covers training; the held-out evaluation comes after it, so say so first.
    size = f" ({len(splits.test):,} images)" if isinstance(splits.test, Sized) else ""
    print(
        f"budget spent ({history.total_s:.0f} s); evaluating the {splits.test_name} split"
        f"{size} outside the budget; --no-test skips this",
        flush=True,
    )
    test = evaluate(model, splits.test, tta="auto", progress=False if args.quiet else "test set")
    card = model_card(
        model,
        repo_id=f"./{out.name}/model",
        datasets=(args.data.split(":", 1)[0],),
        metrics={"top1": 100 * test.accuracy},
        eval_split=f"{splits.test_name}{', TTA ' + test.tta if test.tta else ''}",
        recipe=(
            f"`{history.recipe}` recipe of `alnumzoo.fit` "
            f"({Recipe.from_values(history.recipe_detail).summary()}) on {history.device} "
            f"({history.precision}{', channels-last' if history.channels_last else ''}): "
            f"{history.steps} steps in {history.total_s:.0f} s, stopped by "
            f"{history.stop_reason}; kept the {history.selected} weights. Command: "
            f"`alnumzoo train {args.arch} --data {args.data}"
            + (f" --init {args.init}" if args.init else "")
            + (f" --budget {args.budget}" if args.budget else "")
            + (f" --epochs {args.epochs}" if args.epochs else "")
            + "`"
        ),
    )
    saved = save_pretrained(model, out / "model", card=card)
    print(
        f"trained {args.arch} with the {history.recipe} recipe on {history.device} "
        f"({history.precision}) for {history.total_s:.0f} s, {history.steps} steps, "
        f"stop: {history.stop_reason}; kept the {history.selected} weights"
    )
    if history.fine_tuned and history.start_acc is not None:
        kept = history.selected == "best" and history.best_epoch == 0
        print(
            f"fine-tuned from {args.init}: validation {100 * history.start_acc:.2f}% before, "
            f"{100 * (history.selected_acc or 0.0):.2f}% after"
            + ("; training did not beat the starting weights, so they were kept" if kept else "")
        )
    elif history.fine_tuned:
        print(f"fine-tuned from {args.init} (no validation split to compare before and after)")
    print(f"{splits.test_name} top-1 {100 * test.accuracy:.2f}%"
          f"{' with TTA ' + test.tta if test.tta else ''}; saved {saved}")  # fmt: skip
    # The curves need the optional matplotlib; the CSV holds the same numbers.
    with contextlib.suppress(ImportError):
        history.plot(out / "history.png")
    return 0


def _tta(value: str) -> str | None:
    return None if value == "none" else value


def positive_int(value: str) -> int:
    """argparse type: an integer of at least 1 (a usage error, exit 2, otherwise)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


def add_commands(sub: Any) -> None:
    """Register ``predict``, ``evaluate`` and ``train``."""
    p = sub.add_parser("predict", help="classify image files (top-k labels and probabilities)")
    p.add_argument("model", help="registry name with weights, Hub repo id or saved folder")
    p.add_argument("images", nargs="+", help="image files or folders")
    p.add_argument("--topk", type=positive_int, default=3)
    p.add_argument("--tta", type=_tta, default=None, help="none, flip, shift or crops")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--recursive", action="store_true", help="descend into sub-folders (e.g. class folders)"
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=64, help="images read and classified at once"
    )
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("evaluate", help="accuracy of a model on a data set's held-out split")
    p.add_argument("model", help="registry name with weights, Hub repo id or saved folder")
    p.add_argument("--data", required=True, help=_DATA_HELP)
    p.add_argument("--tta", type=_tta, default="auto", help="auto (default), none, flip, ...")
    p.add_argument("--batch-size", type=positive_int, default=512)
    p.add_argument("--confused", type=positive_int, default=5, help="list this many confusions")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("train", help="train an architecture for a time budget with fit()")
    p.add_argument("arch", help="architecture or variant name, e.g. crnn")
    p.add_argument("--data", required=True, help=_DATA_HELP)
    p.add_argument("--budget", help="wall-clock budget, e.g. 10m, 90s, 1h")
    p.add_argument("--epochs", type=positive_int, help="train this many epochs instead of a budget")
    p.add_argument("--target", type=float, help="stop at this validation accuracy (0-1)")
    p.add_argument("--recipe", default="default", help="default or report")
    p.add_argument(
        "--init",
        metavar="NAME_OR_DIR",
        help="fine-tune from these weights (a registry name, saved folder or Hub id) instead of "
        "training from scratch; the fine-tuning rates apply unless --recipe/--lr are given",
    )
    p.add_argument("--out", default="runs/train", help="folder for checkpoint, weights, curves")
    p.add_argument("--resume", action="store_true", help="continue OUT/checkpoint.pt")
    p.add_argument(
        "--no-test",
        action="store_true",
        help="skip the test-split evaluation after the budget (it is not part of the budget)",
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads",
        type=positive_int,
        help="CPU threads to train with (default: torch's choice)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)
