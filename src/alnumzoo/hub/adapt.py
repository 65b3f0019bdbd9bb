"""Fitting a state dict to a model: a new head, a different input channel count, and the strict
key and shape check that names every mismatch."""

from __future__ import annotations

from pathlib import Path

import torch

from alnumzoo.labels import LabelMap
from alnumzoo.models.base import ZooModel

__all__ = ["adapt_head", "adapt_input_channels", "adapt_stem", "check_keys", "check_values"]


def adapt_head(
    model: ZooModel, state: dict[str, torch.Tensor], old_labels: LabelMap | None
) -> str | None:
    prefix = model.head_name + "."
    current = model.state_dict()
    head_keys = [k for k in state if k.startswith(prefix)]
    if all(state[k].shape == current[k].shape for k in head_keys) and old_labels == model.labels:
        return None
    kept = 0
    for key in head_keys:
        old = state.pop(key)
        new = current[key].clone()
        if old_labels is not None and model.labels is not None and old.dim() >= 1:
            for i, name in enumerate(model.labels):
                if name in old_labels:
                    new[i] = old[old_labels.index(name)]
                    kept += 1 if key.endswith("weight") else 0
        state[key] = new
    return f"head {model.head_name} re-initialised for {model.num_classes} classes" + (
        f" (kept the pretrained rows of {kept} shared labels)" if kept else ""
    )


def adapt_input_channels(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """Adapt a conv kernel ``(O, I, k, k)`` to ``in_chans`` inputs, preserving its response.

    To one channel: sum over the inputs (a grey image repeated over ``I`` channels gives the
    same output). To more: repeat the kernel and scale by ``I / in_chans``. (timm's
    ``adapt_input_conv`` assumes an RGB source, so it cannot grow a grey stem.)
    """
    old = weight.shape[1]
    if in_chans == 1:
        return weight.sum(dim=1, keepdim=True)
    reps = -(-in_chans // old)
    return weight.repeat(1, reps, 1, 1)[:, :in_chans] * (old / in_chans)


def adapt_stem(model: ZooModel, state: dict[str, torch.Tensor]) -> str | None:
    key = model.stem_name + ".weight"
    old = state.get(key)
    if old is None or old.shape[1] == model.in_chans:
        return None
    state[key] = adapt_input_channels(old, model.in_chans)
    return (
        f"first conv {model.stem_name} adapted from {old.shape[1]} to {model.in_chans} "
        "input channels"
    )


def check_keys(model: ZooModel, state: dict[str, torch.Tensor], where: Path) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape
    )
    problems = [
        f"missing keys {missing}" if missing else "",
        f"unexpected keys {unexpected}" if unexpected else "",
        f"shape mismatches {mismatched}" if mismatched else "",
    ]
    if any(problems):
        raise ValueError(
            f"weights in {where} do not fit {type(model).__name__}: "
            + "; ".join(p for p in problems if p)
        )


def check_values(model: ZooModel, state: dict[str, torch.Tensor], where: Path) -> None:
    """Refuse weights ``load_state_dict`` would silently cast or that would predict garbage:
    integer or boolean tensors where the model holds floats (and the reverse), and NaN or
    infinite values.

    Raises:
        ValueError: naming the first offending tensors.
    """
    expected = model.state_dict()
    wrong_kind = [
        f"{k} ({state[k].dtype}, the model holds {expected[k].dtype})"
        for k in sorted(set(state) & set(expected))
        if state[k].dtype.is_floating_point != expected[k].dtype.is_floating_point
    ]
    if wrong_kind:
        raise ValueError(f"weights in {where} have tensors of the wrong kind: {wrong_kind[:5]}")
    broken = [
        k
        for k in sorted(state)
        if state[k].is_floating_point() and not torch.isfinite(state[k]).all()
    ]
    if broken:
        raise ValueError(
            f"weights in {where} hold NaN or infinite values in {broken[:5]}"
            f"{f' and {len(broken) - 5} more tensors' if len(broken) > 5 else ''}"
        )
