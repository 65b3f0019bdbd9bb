"""Choosing the weights a run hands back: the best epoch's, the last, or an average."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import update_bn

from alnumzoo.inference._evaluate import EvalResult
from alnumzoo.training.checkpoint import TrainState

__all__ = ["select_weights", "state_copy"]


def state_copy(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of ``module``'s state dict."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _candidates(state: TrainState) -> dict[str, dict[str, torch.Tensor]]:
    candidates = {"final": state_copy(state.model)}
    swa = state.swa
    if swa is not None and int(swa.n_averaged) > 0:
        # SWA averages weights but not BatchNorm statistics: recompute them on training data.
        was = state.loader.state_dict()
        state.loader.load_state_dict({**was, "batch": 0})
        update_bn(state.loader, swa)
        state.loader.load_state_dict(was)
        candidates["swa"] = state_copy(swa.module)
    if state.ema is not None:
        candidates["ema"] = state_copy(state.ema.module)
    return candidates


def _averaged_or_final(names: Any) -> str:
    return "swa" if "swa" in names else ("ema" if "ema" in names else "final")


def select_weights(
    state: TrainState,
    *,
    keep_best: bool,
    run_eval: Callable[..., EvalResult] | None,
    tta: str | None,
    known: dict[str, float],
) -> None:
    """Load the weights to return into ``state.model`` and record the choice in its history.

    Candidates are the final weights and the EMA/SWA averages; with ``keep_best`` the best
    epoch's weights compete too, and the candidate scoring highest on validation wins.
    Without validation data the average (or the final weights) is kept. ``known`` holds
    scores already measured at the stop; the chosen weights are then scored with ``tta``.
    """
    model, history = state.model, state.history
    candidates = _candidates(state)
    if run_eval is None:
        chosen = _averaged_or_final(candidates)
        model.load_state_dict(candidates[chosen])
        history.selected = chosen
        return
    scores: dict[str, float] = {}
    probe = copy.deepcopy(model)
    for name, weights in candidates.items():
        if name in known:
            scores[name] = known[name]
            continue
        probe.load_state_dict(weights)
        scores[name] = run_eval(probe).accuracy
    history.final_acc = scores["final"]
    averaged = [scores[k] for k in ("swa", "ema") if k in scores]
    history.averaged_acc = max(averaged) if averaged else None
    if state.best_state is not None and state.best_acc > max(scores.values()) and keep_best:
        candidates["best"], scores["best"] = state.best_state, state.best_acc
    chosen = max(scores, key=lambda k: scores[k]) if keep_best else _averaged_or_final(scores)
    model.load_state_dict(candidates[chosen])
    history.selected = chosen
    history.selected_acc = scores[chosen]
    history.best_acc = max(state.best_acc, *scores.values())
    history.best_epoch = (
        state.best_epoch
        if chosen == "best"
        else (history.records[-1].epoch if history.records else None)
    )
    history.tta_acc = run_eval(model, tta).accuracy if tta is not None else scores[chosen]
