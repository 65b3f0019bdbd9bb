"""FitOptions: every setting of a fit() run, validated once, picklable for spawned processes."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch

from alnumzoo.data.base import SizedDataset
from alnumzoo.training.budget import parse_budget
from alnumzoo.training.recipes import Recipe

__all__ = ["FitOptions"]


def _positive_int(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class FitOptions:
    """The keyword arguments of [`fit`][alnumzoo.training._fit.fit] (see there for each one).

    Every number is checked when the options are made (``0`` never means "default"), so a run
    fails before it starts, and the same checked options travel to every process of a
    multi-process run.

    Raises:
        ValueError: a value is out of range.
    """

    budget: str | float | None = None
    epochs: int | None = None
    target: float | None = None
    recipe: str | Recipe = "default"
    device: str | torch.device = "auto"
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0
    checkpoint: str | Path | None = None
    resume: str | Path | bool | None = None
    max_steps: int | None = None
    progress: bool = True
    amp: bool | str = "auto"
    channels_last: bool | str = "auto"
    compile: bool | str = "auto"
    eval_every: int | str = "auto"
    reserve: float | None = None
    eval_batch_size: int = 512
    workers: int = 0
    devices: int | None = None
    resume_anyway: bool = False
    fine_tune: bool | str = "auto"

    def __post_init__(self) -> None:
        if self.fine_tune not in (True, False, "auto"):
            raise ValueError(f"fine_tune must be True, False or 'auto', got {self.fine_tune!r}")
        for name in ("batch_size", "max_steps", "eval_batch_size", "devices", "epochs"):
            _positive_int(name, getattr(self, name))
        if self.eval_every != "auto":
            if self.eval_every is None:
                raise ValueError("eval_every must be a positive integer or 'auto', got None")
            _positive_int("eval_every", self.eval_every)
        workers = self.workers
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"workers must be a non-negative integer, got {workers!r}")
        lr, reserve, target = self.lr, self.reserve, self.target
        if lr is not None and not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"lr must be a positive, finite number, got {lr!r}")
        if reserve is not None and not (
            isinstance(reserve, int | float) and math.isfinite(reserve) and reserve >= 0
        ):
            raise ValueError(
                f"reserve must be a non-negative, finite number of seconds, got {reserve!r}"
            )
        if target is not None and not (isinstance(target, int | float) and 0 < target <= 1):
            raise ValueError(f"target is an accuracy in (0, 1], got {target!r}")
        if self.resume is True and self.checkpoint is None:
            raise ValueError("resume=True needs checkpoint=PATH")
        if self.checkpoint is not None and Path(self.checkpoint).is_dir():
            # Found now, not when the first epoch tries to write it.
            raise ValueError(
                f"checkpoint={str(self.checkpoint)!r} is a folder; give a file path such as "
                f"{str(Path(self.checkpoint) / 'checkpoint.pt')!r}"
            )
        self.budget_s  # noqa: B018  (parses, so a bad budget fails here)

    @classmethod
    def from_arguments(cls, arguments: dict[str, Any]) -> FitOptions:
        """Options from ``fit``'s ``locals()``: every field, taken by name.

        ``fit``'s typed signature is what users, IDEs and the API docs read, and these
        options are what travels to spawned processes; tests/test_training.py checks that the
        two list the same names, types and defaults, and a field ``fit`` does not pass is an
        error here rather than a silent default.
        """
        missing = [f.name for f in fields(cls) if f.name not in arguments]
        if missing:
            raise TypeError(f"FitOptions.from_arguments: no value for {missing}")
        return cls(**{f.name: arguments[f.name] for f in fields(cls)})

    @property
    def budget_s(self) -> float | None:
        """The budget in seconds, or ``None`` for a run measured in epochs."""
        return parse_budget(self.budget) if self.budget is not None else None

    @property
    def resume_from(self) -> str | Path | None:
        """The checkpoint to continue from, if any (``resume=True`` means ``checkpoint``)."""
        if self.resume is True:
            return self.checkpoint
        if self.resume is None or self.resume is False:
            return None
        return self.resume

    def check_data(self, train: SizedDataset[Any], val: SizedDataset[Any] | None) -> None:
        """Refuse data these options cannot train on.

        Raises:
            ValueError: an empty training or validation set, or a ``target`` without
                validation data.
        """
        if self.target is not None and val is None:
            raise ValueError("target needs validation data (val=...)")
        if len(train) == 0:
            raise ValueError("the training set is empty")
        if val is not None and len(val) == 0:
            raise ValueError("the validation set is empty; pass val=None to train without one")
