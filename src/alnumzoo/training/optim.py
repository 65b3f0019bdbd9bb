"""The optimizer a recipe asks for, and the weight averages (EMA, SWA) kept beside it."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from alnumzoo.training.recipes import Recipe

__all__ = ["EmaUpdate", "build_optimizer", "ema_model", "swa_model"]


def build_optimizer(model: nn.Module, recipe: Recipe, lr: float) -> torch.optim.Optimizer:
    """The recipe's optimizer; weight decay skips norms and biases unless the recipe says
    otherwise."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 or recipe.decay_norm_and_bias else no_decay).append(p)
    groups = [
        {"params": decay, "weight_decay": recipe.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    groups = [g for g in groups if g["params"]]
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=recipe.momentum, nesterov=recipe.nesterov)
    if recipe.optimizer == "adam":
        return torch.optim.Adam(groups, lr=lr)
    if recipe.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    raise ValueError(f"unknown optimizer {recipe.optimizer!r}; expected sgd, adam or adamw")


_Tensors = tuple[torch.Tensor, ...] | list[torch.Tensor]


def _warmed_up_ema(decay: float) -> Callable[[_Tensors, _Tensors, torch.Tensor | int], None]:
    # Warmed-up decay: early averages are not dominated by the random initial weights.
    def update(averaged: _Tensors, current: _Tensors, n: torch.Tensor | int) -> None:
        weight: float | torch.Tensor
        if isinstance(n, torch.Tensor) and n.device.type != "cpu":
            # float(n) would make the host wait for the GPU at every step: keep it there.
            weight = 1 - torch.clamp((1 + n) / (10 + n), max=decay)
        else:
            weight = 1 - min(decay, (1 + float(n)) / (10 + float(n)))
        for a, c in zip(averaged, current, strict=True):
            if a.is_floating_point():
                w = weight.to(a.dtype) if isinstance(weight, torch.Tensor) else weight
                a.lerp_(c.to(a.dtype), w)
            else:
                a.copy_(c)

    return update


def ema_model(model: nn.Module, recipe: Recipe) -> AveragedModel | None:
    """An exponential moving average of ``model`` (buffers included), if the recipe keeps one."""
    if not recipe.ema_decay:
        return None
    return AveragedModel(model, multi_avg_fn=_warmed_up_ema(recipe.ema_decay), use_buffers=True)


class EmaUpdate:
    """The per-step update of an [`ema_model`][alnumzoo.training.optim.ema_model] average as one
    ``torch._foreach_lerp_`` over all its floating-point tensors.

    ``AveragedModel.update_parameters`` walks the modules and builds its lists in Python at
    every call: on the CPU that cost more than a small model's whole step (measured with
    ``benchmarks/throughput.py``'s host-overhead row). The arithmetic is the same: the first
    call copies, later ones move by ``1 - min(decay, (1 + n) / (10 + n))``, integer buffers are
    copied, and ``n_averaged`` counts the updates so checkpoints see it. The count is kept on
    the host as well, so a CUDA step never waits to read it.

    Args:
        ema: The average, after any checkpoint was loaded into it.
        model: The model being trained.
        decay: The recipe's EMA decay.
    """

    def __init__(self, ema: AveragedModel, model: nn.Module, decay: float) -> None:
        averaged = [*ema.module.parameters(), *ema.module.buffers()]
        current = [*model.parameters(), *model.buffers()]
        pairs = list(zip(averaged, current, strict=True))
        self._float = ([a for a, c in pairs if a.is_floating_point()],
                       [c for a, c in pairs if a.is_floating_point()])  # fmt: skip
        self._other = ([a for a, c in pairs if not a.is_floating_point()],
                       [c for a, c in pairs if not a.is_floating_point()])  # fmt: skip
        self.ema, self.decay = ema, decay
        self.count = int(ema.n_averaged)

    @torch.no_grad()
    def __call__(self) -> None:
        """Fold the model's current weights into the average."""
        averaged, current = self._float
        if self.count == 0:
            torch._foreach_copy_(averaged, current)
        else:
            weight = 1 - min(self.decay, (1 + self.count) / (10 + self.count))
            torch._foreach_lerp_(averaged, current, weight)
        if self._other[0]:
            torch._foreach_copy_(*self._other)
        self.count += 1
        self.ema.n_averaged.add_(1)


def swa_model(model: nn.Module, recipe: Recipe) -> AveragedModel | None:
    """A stochastic weight average of ``model``, if the recipe starts one."""
    return AveragedModel(model) if recipe.swa_start is not None else None
