"""Wall-clock budgets: parsing ``"15m"``-style strings, a clock that is honest on CUDA, and
the plan that turns a budget into training progress with room kept for the final evaluation."""

from __future__ import annotations

import math
import re
import time
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from alnumzoo.inference.device import autocast

__all__ = ["BudgetClock", "BudgetPlan", "estimate_eval_s", "parse_budget"]

# The largest share of a budget held back for the final evaluation and checkpoint. A quarter
# left CRNN on Fashion-MNIST with 73 steps in 60 s (72.3% on the test set); 8% gave it 91
# steps and 74.1% (benchmarks/peer_race.py, one CPU thread), and at 300 s 8% was still 24 s
# of evaluation against a hand-written loop that evaluates nothing. The final evaluation
# then scores a class-balanced validation sample, which is enough to choose between weights.
MAX_RESERVE = 0.03
# Overrun allowed before the final evaluation is cut to a validation sample, and the smallest
# sample it is cut to.
FINAL_SLACK = 0.05
MIN_FINAL_IMAGES = 256
# Seconds the end of a run takes besides its evaluation passes (copies of the candidate
# weights, the last checkpoint).
EVAL_OVERHEAD_S = 1.0

_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(h|min|m|sec|s|)")


def parse_budget(budget: str | float | int) -> float:
    """Seconds in a budget given as a number of seconds or a string like ``"15m"``,
    ``"90s"``, ``"1h30m"`` or ``"2.5min"``.

    Raises:
        ValueError: the string is not of that form, or the budget is not positive.
    """
    if isinstance(budget, bool):
        raise ValueError(f"budget must be seconds or a string like '15m', got {budget!r}")
    if isinstance(budget, int | float):
        seconds = float(budget)
    else:
        text = budget.strip().lower().replace(" ", "")
        pos, seconds = 0, 0.0
        while pos < len(text):
            match = _PART.match(text, pos)
            if match is None or match.end() == pos:
                raise ValueError(
                    f"budget must be seconds or a string like '15m', '90s' or '1h30m', "
                    f"got {budget!r}"
                )
            seconds += float(match.group(1)) * _UNITS[match.group(2)]
            pos = match.end()
        if not text:
            raise ValueError("budget is an empty string; expected e.g. '15m'")
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"budget must be a positive, finite number of seconds, got {budget!r}")
    return seconds


class BudgetClock:
    """Seconds spent on a run, counting time already spent before a resume.

    On CUDA the clock synchronises the device before reading the time, so queued kernels are
    charged to the budget; [`elapsed`][alnumzoo.training.budget.BudgetClock.elapsed] takes
    ``sync=False`` for cheap, slightly early reads between synchronisations.

    Args:
        device: The training device.
        already_spent: Seconds spent by earlier sessions of the same run.
        now: The time source, in seconds (``time.perf_counter``; tests pass their own, so a
            budget's arithmetic is checked without waiting for it).
    """

    def __init__(
        self,
        device: torch.device,
        already_spent: float = 0.0,
        now: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.device = device
        self.already_spent = already_spent
        self._now = now
        self._start = now()

    def elapsed(self, sync: bool = True) -> float:
        """Seconds spent so far in this run (all sessions)."""
        if sync and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return self.already_spent + self._now() - self._start


@torch.no_grad()
def estimate_eval_s(model: nn.Module, val_loader: Any, cast: torch.dtype | None) -> float:
    """Seconds one evaluation pass over ``val_loader`` will take, from one timed batch, so a
    budget keeps room for the final evaluation from the start."""
    x, _ = next(iter(val_loader))
    val_loader.load_state_dict({**val_loader.state_dict(), "epoch": 0, "batch": 0})
    was = model.training
    model.eval()
    device = x.device
    clock = BudgetClock(device)
    with autocast(device, cast):
        model(x)
    per_batch = clock.elapsed()
    model.train(was)
    return per_batch * len(val_loader)


class BudgetPlan:
    """How a run spends its budget: the progress through the run (which drives the learning
    rate schedule), the share kept back for the final evaluation, and how much of the
    validation set that evaluation can afford.

    Without a budget, progress is simply steps over ``total_steps``.

    Args:
        clock: The run's clock.
        budget_s: The budget in seconds, or ``None``.
        reserve: Seconds kept for the final evaluation and checkpoint (default 2% of the
            budget; the measured evaluation cost is kept when larger, up to `MAX_RESERVE`).
        total_steps: Steps of an epoch-bounded run (also a cap under a budget).
        agree: Combines a progress value over processes (the slowest rank decides).
    """

    def __init__(
        self,
        clock: BudgetClock,
        budget_s: float | None,
        *,
        reserve: float | None,
        total_steps: int | None,
        agree: Callable[[float], float] = lambda p: p,
    ) -> None:
        self.clock = clock
        self.budget_s = budget_s
        self.reserve_s = reserve if reserve is not None else 0.02 * (budget_s or 0.0)
        self.total_steps = total_steps
        self.eval_pass_s = 0.0
        self.eval_passes = 0
        self._agree = agree

    @property
    def eval_cost(self) -> float:
        """Seconds the final evaluation is expected to take: its passes over the whole
        validation set plus `EVAL_OVERHEAD_S` for choosing weights and the last checkpoint."""
        return self.eval_pass_s * self.eval_passes + EVAL_OVERHEAD_S if self.eval_passes else 0.0

    def expect_evaluation(self, pass_s: float, passes: int) -> None:
        """Plan for a final evaluation of ``passes`` passes of ``pass_s`` seconds each over
        the validation set, warning when it cannot fit in the budget's reserve."""
        self.eval_pass_s, self.eval_passes = pass_s, passes
        seconds = self.eval_cost
        if self.budget_s is not None and seconds > MAX_RESERVE * self.budget_s:
            warnings.warn(
                f"the final evaluation is estimated at {seconds:.0f} s of the "
                f"{self.budget_s:.0f} s budget for the whole validation set; at most "
                f"{MAX_RESERVE:.0%} is reserved for it, so it will score a class-balanced sample "
                "of the validation set (History.final_eval_images says how many)",
                stacklevel=5,
            )

    def observe_evaluation(self, pass_s: float) -> None:
        """A measured pass over the whole validation set replaces the estimate."""
        self.eval_pass_s = pass_s

    def progress(self, step: int, sync: bool = True) -> float:
        """Fraction of the run done (1.0 and more: stop)."""
        if self.budget_s is None:
            assert self.total_steps is not None
            return step / self.total_steps
        # Never let evaluation eat the budget: a slow validation set makes the run end late
        # rather than train for almost nothing.
        kept = min(max(self.reserve_s, self.eval_cost), MAX_RESERVE * self.budget_s)
        p = self.clock.elapsed(sync) / max(self.budget_s - kept, 1e-9)
        if self.total_steps is not None:
            p = max(p, step / self.total_steps)
        return self._agree(p)

    def seconds_left(self) -> float | None:
        """Budget left (``None`` without a budget); reads the clock without synchronising."""
        if self.budget_s is None:
            return None
        return max(0.0, self.budget_s - self.clock.elapsed(False))

    def affordable_final_images(self, val_images: int, passes: int) -> int | None:
        """How many validation images the final evaluation can score in what is left of the
        budget (plus a small slack): ``None`` when all of them fit, else a sample size (at
        least ``MIN_FINAL_IMAGES``)."""
        if self.budget_s is None:
            return None
        per_image = max(self.eval_pass_s, 1e-6) / val_images
        left = self.budget_s - self.clock.elapsed()
        if (left + FINAL_SLACK * self.budget_s) / (passes * per_image) >= val_images:
            return None  # all of it, a little past the budget at most
        return max(int(left / (passes * per_image)), MIN_FINAL_IMAGES)
