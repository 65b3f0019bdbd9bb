"""Wall-clock budgets: parsing ``"15m"``-style strings and a clock that is honest on CUDA."""

from __future__ import annotations

import math
import re
import time

import torch

__all__ = ["BudgetClock", "parse_budget"]

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
    """

    def __init__(self, device: torch.device, already_spent: float = 0.0) -> None:
        self.device = device
        self.already_spent = already_spent
        self._start = time.perf_counter()

    def elapsed(self, sync: bool = True) -> float:
        """Seconds spent so far in this run (all sessions)."""
        if sync and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return self.already_spent + time.perf_counter() - self._start
