"""The budget's arithmetic on an injected clock: progress, the evaluation reserve and the final
evaluation's sample, checked exactly and without waiting."""

from __future__ import annotations

import pytest
import torch

from alnumzoo.training.budget import (
    EVAL_OVERHEAD_S,
    MAX_RESERVE,
    MIN_FINAL_IMAGES,
    BudgetClock,
    BudgetPlan,
)


class FakeTime:
    """A time source that moves only when told."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _plan(budget: float, already_spent: float = 0.0) -> tuple[FakeTime, BudgetPlan]:
    now = FakeTime()
    clock = BudgetClock(torch.device("cpu"), already_spent=already_spent, now=now)
    return now, BudgetPlan(clock, budget, reserve=None, total_steps=None)


def test_progress_runs_on_the_clock_less_the_default_reserve() -> None:
    now, plan = _plan(100.0)
    assert plan.progress(0) == 0.0
    now.t += 49.0
    assert plan.progress(10) == pytest.approx(49.0 / 98.0)  # 2% kept back by default
    now.t += 49.0
    assert plan.progress(20) == pytest.approx(1.0)
    assert plan.seconds_left() == pytest.approx(2.0)


def test_a_resumed_run_counts_the_time_already_spent() -> None:
    now, plan = _plan(100.0, already_spent=60.0)
    now.t += 10.0
    assert plan.clock.elapsed() == pytest.approx(70.0)
    assert plan.seconds_left() == pytest.approx(30.0)


def test_an_expensive_evaluation_reserves_at_most_max_reserve() -> None:
    now, plan = _plan(100.0)
    with pytest.warns(UserWarning, match="final evaluation is estimated at 61 s"):
        plan.expect_evaluation(pass_s=20.0, passes=3)
    assert plan.eval_cost == 60.0 + EVAL_OVERHEAD_S
    now.t += 100.0 * (1 - MAX_RESERVE)
    assert plan.progress(1) == pytest.approx(1.0)


def test_the_final_evaluation_samples_what_the_rest_of_the_budget_affords() -> None:
    now, plan = _plan(100.0)
    plan.expect_evaluation(pass_s=1.0, passes=2)  # 1 s per pass over 10,000 images
    now.t += 90.0
    assert plan.affordable_final_images(10_000, 2) is None  # 2 s of passes fit in 10 s
    now.t += 9.9  # 0.1 s left, plus the 5 s slack: not enough for two whole passes
    plan.observe_evaluation(4.0)
    sample = plan.affordable_final_images(10_000, 2)
    assert sample == MIN_FINAL_IMAGES  # 0.1 s buys 125 images; the floor is higher
