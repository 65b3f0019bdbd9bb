"""The decisions a run makes from its options, its budget plan and where it is: whether to
stop (and why), whether to evaluate now, and, once at set-up, whether to augment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alnumzoo.training.budget import BudgetPlan
from alnumzoo.training.history import StopReason
from alnumzoo.training.options import FitOptions
from alnumzoo.training.recipes import Recipe

__all__ = [
    "MID_RUN_EVAL_SHARE",
    "augment_choice",
    "evaluates_now",
    "planned_epochs",
    "stop_rule",
    "weights_tta",
]

#: Under a budget, ``eval_every="auto"`` evaluates mid-run only when a validation pass costs at
#: most this share of an epoch's training (CRNN on Fashion-MNIST, one CPU thread: a pass over
#: the 6,000 validation images was 10 s after a 240 s epoch, in a 300 s budget).
MID_RUN_EVAL_SHARE = 0.02


def stop_rule(
    options: FitOptions, plan: BudgetPlan, step: int, p: float, val_acc: float | None = None
) -> StopReason | None:
    """The one stop rule, asked after every step and again after an epoch's evaluation:
    ``"target"`` (validation accuracy reached it), ``"budget"`` or ``"epochs"`` (progress
    ``p`` reached 1 by the clock or by the step count), ``"max_steps"``; ``None`` to go on.
    Signals are not a stop reason: they end the run with ``TrainingInterrupted``."""
    if options.target is not None and val_acc is not None and val_acc >= options.target:
        return "target"
    if p >= 1.0:
        steps_left = plan.total_steps is None or step < plan.total_steps
        return "budget" if plan.budget_s and steps_left else "epochs"
    if options.max_steps is not None and step >= options.max_steps:
        return "max_steps"
    return None


def evaluates_now(
    options: FitOptions,
    plan: BudgetPlan,
    epoch: int,
    *,
    stopping: bool,
    epoch_done: bool,
    train_s: float,
) -> bool:
    """Whether this epoch's end evaluates (given validation data): always at the stop and
    after a partial epoch (a ``max_steps`` piece), every ``eval_every`` epochs when it is a
    number. ``"auto"`` evaluates every epoch, except under a budget without a ``target``: there
    the schedule ends at zero, so the last weights are nearly always the best and a mid-run
    evaluation buys only the curve; it is made when a pass costs at most `MID_RUN_EVAL_SHARE`
    of the epoch's ``train_s``."""
    every = options.eval_every
    if stopping or not epoch_done:
        return True
    if isinstance(every, int):
        return epoch % every == 0
    if plan.budget_s is None or options.target is not None:
        return True
    return plan.eval_pass_s <= MID_RUN_EVAL_SHARE * train_s


def planned_epochs(
    epochs: int | None, budget_s: float | None, images_per_s: float | None, train_images: int
) -> float | None:
    """How many times a run will see its training data: its ``epochs``, or under a budget the
    budget at the measured training rate; ``None`` when neither is known (no CPU probe ran)."""
    if epochs is not None:
        return float(epochs)
    if budget_s is None or not images_per_s:
        return None
    return budget_s * images_per_s / max(train_images, 1)


def weights_tta(
    recipe: Recipe, tta: str | None, augment: str | None, loader: Mapping[str, int]
) -> str | None:
    """The test-time augmentation that suits a run's weights: ``tta`` (the recipe's,
    resolved), or none when the recipe said ``"auto"`` and the run never trained on an
    augmented image (``augment``: its preset; ``loader``: the training loader's
    ``state_dict``, the next epoch and batch). ``"auto"`` views are the augmentation's, and a
    model never shown a mirror reads mirrors worse (CRNN on Fashion-MNIST, 30 s unaugmented
    on one CPU thread: 82.1% plain, 74.2% with flip TTA)."""
    last_epoch = loader["epoch"] - (loader["batch"] == 0)
    augmented = augment is not None and last_epoch >= recipe.augment_from_epoch
    return tta if augmented or recipe.tta != "auto" else None


def augment_choice(
    recipe: Recipe,
    preset: str | None,
    planned: float | None,
    resumed: Mapping[str, Any] | None = None,
) -> str | None:
    """The augmentation preset a run trains with: ``preset``, unless the run is planned to
    see its data fewer times than the recipe's ``augment_min_epochs`` (``planned``: ``None``
    when not known, which augments).

    A resumed run keeps its first decision (``resumed``: the checkpoint's history): the probe
    that measured the rate it was planned at does not run again. A decision for another preset
    means another recipe or data set, which the resume check refuses (resumed anyway, the new
    run's decision stands)."""
    chosen = preset if planned is None or planned >= recipe.augment_min_epochs else None
    kept = resumed.get("augment", chosen) if resumed is not None else chosen
    return kept if kept in (None, preset) else chosen

