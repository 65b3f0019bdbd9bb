"""Parameter counting and the course's parameter cap."""

from __future__ import annotations

from torch import nn

__all__ = ["COURSE_PARAM_CAP", "ParameterBudgetError", "check_parameter_budget", "count_parameters"]

#: The original project's limit on model size.
COURSE_PARAM_CAP = 1_200_000


class ParameterBudgetError(ValueError):
    """A model has more parameters than allowed."""


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (shared tensors counted once)."""
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


def check_parameter_budget(model: nn.Module, cap: int = COURSE_PARAM_CAP) -> int:
    """Return the parameter count of ``model``, raising if it exceeds ``cap``.

    Raises:
        ParameterBudgetError: the model is larger than ``cap`` (default: the course's 1.2M).
    """
    n = count_parameters(model)
    if n > cap:
        raise ParameterBudgetError(
            f"{type(model).__name__} has {n:,} parameters, over the cap of {cap:,}"
        )
    return n
