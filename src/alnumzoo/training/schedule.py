"""Learning-rate schedules driven by training progress (a fraction of steps or of the budget)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

__all__ = ["ProgressLR", "lr_factor_fn"]


def lr_factor_fn(
    kind: str,
    *,
    warmup: float = 0.0,
    total_epochs: float = 1.0,
    step_epochs: float = 0.0,
    step_gamma: float = 1.0,
    phases: tuple[tuple[float, float], ...] = (),
    base_lr: float = 1.0,
) -> Callable[[float], float]:
    """The multiplier of the base learning rate as a function of progress in [0, 1].

    Kinds:
        ``"linear"``: linear warm-up over the first ``warmup`` fraction, then linear decay that
            reaches exactly zero at progress 1 (the end of the budget or of the epochs).
        ``"cosine"``: the same warm-up, then half a cosine down to zero.
        ``"constant"``: 1 throughout (the reports' Adam runs).
        ``"step"``: ``step_gamma ** floor(epoch / step_epochs)``, the epoch being
            ``progress · total_epochs`` (PyTorch's ``StepLR`` on a progress clock).
        ``"phases"``: equal phases; phase *i* moves log-linearly from ``phases[i][0]`` to
            ``phases[i][1]`` (absolute rates, divided by ``base_lr``), as in the cyclic
            schedule of report 003.

    Raises:
        ValueError: unknown kind or inconsistent arguments.
    """
    if not 0.0 <= warmup < 1.0:
        raise ValueError(f"warmup must be a fraction in [0, 1), got {warmup}")

    def warm(p: float) -> float | None:
        return p / warmup if p < warmup else None

    if kind == "linear":
        return lambda p: w if (w := warm(p)) is not None else max(0.0, (1 - p) / (1 - warmup))
    if kind == "cosine":
        return lambda p: (
            w
            if (w := warm(p)) is not None
            else 0.5 * (1 + math.cos(math.pi * min(1.0, (p - warmup) / (1 - warmup))))
        )
    if kind == "constant":
        return lambda p: 1.0
    if kind == "step":
        if step_epochs <= 0:
            raise ValueError("the 'step' schedule needs step_epochs > 0")
        return lambda p: step_gamma ** math.floor(p * total_epochs / step_epochs + 1e-9)
    if kind == "phases":
        if not phases:
            raise ValueError("the 'phases' schedule needs at least one (start_lr, end_lr) phase")

        def phase(p: float) -> float:
            position = min(max(p, 0.0), 1.0) * len(phases)
            index = min(int(position), len(phases) - 1)
            hi, lo = phases[index]
            t = position - index
            return math.exp(math.log(hi) + t * (math.log(lo) - math.log(hi))) / base_lr

        return phase
    raise ValueError(
        f"unknown schedule {kind!r}; expected linear, cosine, constant, step or phases"
    )


class ProgressLR(LRScheduler):
    """A `torch.optim.lr_scheduler.LRScheduler` whose position is training progress.

    Call [`advance`][alnumzoo.training.schedule.ProgressLR.advance] with the fraction of the run
    done (steps or budget) after every optimizer step; it is the one place a run's learning rate
    is set (`set_progress` then `step` do the same through ``LRScheduler``'s machinery). The
    state dict holds only numbers, so checkpoints load with ``weights_only=True``.

    Args:
        optimizer: The optimizer whose groups' ``initial_lr`` are scaled.
        factor: Multiplier as a function of progress (see
            [`lr_factor_fn`][alnumzoo.training.schedule.lr_factor_fn]).
    """

    def __init__(self, optimizer: Optimizer, factor: Callable[[float], float]) -> None:
        self.factor = factor
        self.progress = 0.0
        super().__init__(optimizer)

    def set_progress(self, progress: float) -> None:
        """Move to ``progress`` (clamped to [0, 1]); takes effect at the next `step`."""
        self.progress = min(max(progress, 0.0), 1.0)

    def advance(self, progress: float) -> None:
        """Move to ``progress`` and set every group's rate for the next step: what
        `set_progress` then `step` do, without ``LRScheduler.step``'s per-call bookkeeping
        (a tenth of a small model's step on the CPU)."""
        self.set_progress(progress)
        self.last_epoch += 1
        scale = self.factor(self.progress)
        rates = [float(base) * scale for base in self.base_lrs]
        for group, rate in zip(self.optimizer.param_groups, rates, strict=True):
            group["lr"] = rate
        self._last_lr = rates  # type: ignore[assignment]

    def rebase(self, base_lr: float) -> None:
        """Make ``base_lr`` every group's base rate, keeping the position in the schedule
        (a run resumed with another learning rate)."""
        if all(base == base_lr for base in self.base_lrs):
            return
        self.base_lrs = [base_lr] * len(self.base_lrs)
        scale = self.factor(self.progress)
        for group in self.optimizer.param_groups:
            group["initial_lr"] = base_lr
            group["lr"] = base_lr * scale
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """Base rates scaled by the factor at the current progress."""
        scale = self.factor(self.progress)
        return [float(base) * scale for base in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        """Progress, step count and base rates (no callables)."""
        return {
            "progress": self.progress,
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "_last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what [`state_dict`][alnumzoo.training.schedule.ProgressLR.state_dict]
        returned."""
        self.progress = float(state_dict["progress"])
        self.last_epoch = int(state_dict["last_epoch"])
        self.base_lrs = [float(v) for v in state_dict["base_lrs"]]
        self._last_lr = [float(v) for v in state_dict["_last_lr"]]
