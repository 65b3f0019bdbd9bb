"""What ``fit`` writes into the record of the weights it hands back."""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from alnumzoo._version import __version__
from alnumzoo.models.base import ZooModel
from alnumzoo.training.history import History

__all__ = ["record_training"]


def record_training(model: nn.Module, history: History) -> None:
    """Put the run into ``model``'s [`record`][alnumzoo.models.base.ZooModel.record]: the exact
    recipe, the validation accuracy of the weights handed back and the run's facts, replacing
    what the record said about the weights it started from (a fine-tune names them). Plain
    modules have no record and are left alone."""
    if not isinstance(model, ZooModel):
        return
    before = model.record
    run: dict[str, Any] = {
        "trained_with": f"alnumzoo {__version__} fit",
        "device": history.device,
        "precision": history.precision,
        "channels_last": history.channels_last,
        "steps": history.steps,
        "budget_s": history.budget_s,
        "train_s": round(history.total_s, 1),
        "stop_reason": history.stop_reason,
        "selected": history.selected,
    }
    if history.fine_tuned:
        report = model.load_report
        # A registry variant by its name, anything else by its folder or repository.
        start = before.provenance.get("weights") or (report.location if report else None)
        run["fine_tuned_from"] = str(start or "trained weights")
        if "fine_tuned_from" in before.provenance:  # a fine-tune of a fine-tune keeps the chain
            run["fine_tuned_from"] = f"{run['fine_tuned_from']} <- " + str(
                before.provenance["fine_tuned_from"]
            )
    metrics = {}
    if history.selected_acc is not None:
        metrics["val_top1"] = round(100 * history.selected_acc, 2)
    model.record = dataclasses.replace(
        before, recipe=dict(history.recipe_detail), metrics=metrics, provenance=run
    )
