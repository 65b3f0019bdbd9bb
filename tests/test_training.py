"""fit(), schedules, recipes, checkpoints and resume, on tiny data."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from _tiny import tiny_cifar
from torch import nn

import alnumzoo
from alnumzoo import fit
from alnumzoo.training import (
    CheckpointError,
    History,
    NonFiniteLossError,
    TrainingInterrupted,
    get_recipe,
    load_checkpoint,
    loop,
    lr_factor_fn,
    parse_budget,
)


def cifar_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return alnumzoo.create_model("cifar_cnn")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900.0), ("90s", 90.0), ("1h30m", 5400.0), ("2.5min", 150.0), (12, 12.0), ("7", 7.0)],
)
def test_parse_budget(text: str | int, seconds: float) -> None:
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("bad", ["", "fast", "10x", "-5m", 0, "m"])
def test_parse_budget_rejects(bad: str | int) -> None:
    with pytest.raises(ValueError, match="budget"):
        parse_budget(bad)


def test_linear_schedule_warms_up_and_ends_at_zero() -> None:
    f = lr_factor_fn("linear", warmup=0.1)
    assert f(0.0) == 0.0
    assert f(0.05) == pytest.approx(0.5)
    assert f(0.1) == pytest.approx(1.0)
    assert f(0.55) == pytest.approx(0.5)
    assert f(1.0) == 0.0
    cos = lr_factor_fn("cosine", warmup=0.0)
    assert cos(0.0) == pytest.approx(1.0)
    assert cos(1.0) == pytest.approx(0.0, abs=1e-12)


def test_step_schedule_matches_torch_steplr() -> None:
    """Report 004's StepLR(3, 0.5) over 15 epochs, on the progress clock."""
    opt = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=5e-4)
    ref = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    f = lr_factor_fn("step", total_epochs=15, step_epochs=3, step_gamma=0.5)
    for epoch in range(15):
        assert 5e-4 * f(epoch / 15) == pytest.approx(opt.param_groups[0]["lr"])
        opt.step()
        ref.step()


def test_progress_lr_advance_matches_scheduler_step() -> None:
    """The loop's one-call rate update sets what set_progress + LRScheduler.step would."""
    from alnumzoo.training.schedule import ProgressLR

    def scheduler() -> ProgressLR:
        groups = [{"params": [nn.Parameter(torch.zeros(1))]} for _ in range(2)]
        optimizer = torch.optim.SGD(groups, lr=0.3)
        return ProgressLR(optimizer, lr_factor_fn("linear", warmup=0.2))

    fast, slow = scheduler(), scheduler()
    for p in (0.05, 0.1, 0.3, 0.7, 1.2):
        fast.advance(p)
        slow.set_progress(p)
        slow.step()
        assert fast.state_dict() == slow.state_dict()
        lrs = [g["lr"] for g in fast.optimizer.param_groups]
        assert lrs == [g["lr"] for g in slow.optimizer.param_groups]
    assert lrs == [0.0, 0.0]


def test_ema_update_matches_averaged_model() -> None:
    """The foreach EMA step gives AveragedModel's warmed-up average bit for bit, BatchNorm
    statistics and its integer step counter included, and counts its updates."""
    from alnumzoo.training.optim import EmaUpdate, ema_model

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(2))
    model(torch.randn(2, 3, 8, 8))
    recipe = get_recipe("default", "cifar_cnn")
    reference, fast = ema_model(model, recipe), ema_model(model, recipe)
    assert reference is not None
    assert fast is not None
    assert recipe.ema_decay is not None
    update = EmaUpdate(fast, model, recipe.ema_decay)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(5):
        model(torch.randn(4, 3, 8, 8)).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
        reference.update_parameters(model)
        update()
    for (name, expected), got in zip(
        reference.state_dict().items(), fast.state_dict().values(), strict=True
    ):
        assert torch.equal(expected, got), name
    assert int(fast.n_averaged) == update.count == 5


def test_phase_schedule_follows_report_003() -> None:
    rec = get_recipe("report", "efficientnet_b2")
    f = lr_factor_fn("phases", phases=rec.phases, base_lr=rec.lr)
    for i, (hi, lo) in enumerate(rec.phases):
        assert rec.lr * f(i / 4) == pytest.approx(hi)
        assert rec.lr * f((i + 1) / 4 - 1e-12) == pytest.approx(lo, rel=1e-6)


def test_report_recipes_are_wired_as_specified() -> None:
    b = get_recipe("report", "bottleneck_cnn")
    assert (b.optimizer, b.lr, b.batch_size, b.epochs, b.augment) == ("adam", 1e-4, 50, 12, None)
    c = get_recipe("report", "crnn")
    assert (c.optimizer, c.lr, c.batch_size, c.epochs) == ("adam", 5e-4, 50, 15)
    assert (c.schedule, c.step_epochs, c.step_gamma) == ("step", 3, 0.5)
    r = get_recipe("report", "lite_resnet")
    assert (r.optimizer, r.lr, r.batch_size, r.augment) == ("adam", 2e-3, 512, "slight_rotation")
    e = get_recipe("report", "efficientnet_b2")
    assert (e.optimizer, e.momentum, e.label_smoothing, e.swa_start, e.tta) == (
        "sgd",
        0.9,
        0.1,
        0.75,
        "crops",
    )
    with pytest.raises(KeyError, match="no variant for architecture"):
        get_recipe("report", "resnet50")
    with pytest.raises(KeyError, match="unknown recipe"):
        get_recipe("speedy", "crnn")


def test_report_recipe_trains_with_adam_at_report_rate() -> None:
    model = cifar_model()
    history = fit(
        model, tiny_cifar(100), tiny_cifar(40, 1), epochs=1, recipe="report", progress=False
    )
    assert history.recipe == "report"
    # batch 50 over 100 images: two Adam steps at the constant 1e-3.
    assert history.steps == 2
    assert history.records[-1].lr == pytest.approx(1e-3)


@pytest.mark.slow  # a wall-clock budget; test_budget_plan.py checks it on a fake clock
def test_budget_drives_schedule_to_zero_within_budget() -> None:
    model = cifar_model()
    start = time.perf_counter()
    history = fit(
        model, tiny_cifar(256), tiny_cifar(64, 1), budget=4, batch_size=32, progress=False
    )
    wall = time.perf_counter() - start
    assert history.stop_reason == "budget"
    assert history.records[-1].lr < 0.05 * get_recipe("default", "cifar_cnn").lr * 32 / 256
    # Loose on purpose: CI machines are noisy; the point is "about the budget", not 2x.
    assert wall < 4 + 6
    assert history.total_s == pytest.approx(wall, abs=2.0)
    assert not model.training


def test_target_stops_early() -> None:
    model = cifar_model()
    history = fit(
        model,
        tiny_cifar(256),
        tiny_cifar(100, 1),
        epochs=30,
        target=0.3,
        batch_size=32,
        progress=False,
    )
    assert history.stop_reason == "target"
    assert len(history.records) < 30
    assert history.records[-1].val_acc is not None
    assert history.records[-1].val_acc >= 0.3


def test_learns_and_keeps_best(tmp_path: Path) -> None:
    model = cifar_model()
    history = fit(
        model, tiny_cifar(320), tiny_cifar(100, 1), epochs=6, batch_size=32, progress=False
    )
    assert history.best_acc is not None
    assert history.best_acc >= 0.9
    assert history.selected in {"best", "final", "ema"}
    assert history.selected_acc == pytest.approx(
        max(v for v in (history.best_acc, history.final_acc, history.averaged_acc) if v is not None)
    )
    result = alnumzoo.evaluate(model, tiny_cifar(100, 1))
    assert result.accuracy == pytest.approx(history.selected_acc)
    assert int(result.confusion.sum()) == 100
    csv = history.to_csv(tmp_path / "h.csv").read_text().splitlines()
    assert csv[0].startswith("epoch,step,lr,train_loss")
    assert len(csv) == 1 + len(history.records)
    again = History.from_dict(history.to_dict())
    assert again == history


def test_history_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    history = fit(
        cifar_model(), tiny_cifar(64), tiny_cifar(20, 1), epochs=2, batch_size=32, progress=False
    )
    history.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 5000


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_resume_is_bit_exact(tmp_path: Path) -> None:
    """3 steps + resume + 3 steps == 6 steps, bit for bit (weights, EMA, optimizer)."""
    data, val = tiny_cifar(160), tiny_cifar(30, 1)
    kwargs = dict(epochs=3, batch_size=32, progress=False)
    ck = tmp_path / "run.pt"
    a = cifar_model()
    first = fit(a, data, val, max_steps=3, checkpoint=ck, **kwargs)  # type: ignore[arg-type]
    assert first.stop_reason == "max_steps"
    assert first.steps == 3
    b = cifar_model(seed=123)  # different initial weights: everything must come from the file
    fit(b, data, val, max_steps=6, checkpoint=ck, resume=ck, **kwargs)  # type: ignore[arg-type]
    c = cifar_model()
    fit(c, data, val, max_steps=6, checkpoint=tmp_path / "c.pt", **kwargs)  # type: ignore[arg-type]
    for key, value in _state(c).items():
        assert torch.equal(value, _state(b)[key]), key
    resumed, straight = load_checkpoint(ck), load_checkpoint(tmp_path / "c.pt")
    assert resumed["step"] == straight["step"] == 6
    for key, value in straight["ema"].items():
        assert torch.equal(value, resumed["ema"][key]), key
    for s1, s2 in zip(
        resumed["optimizer"]["state"].values(), straight["optimizer"]["state"].values(), strict=True
    ):
        assert torch.equal(s1["momentum_buffer"], s2["momentum_buffer"])
    assert resumed["loader"] == straight["loader"]


def test_resume_refuses_foreign_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        fit(cifar_model(), tiny_cifar(64), resume=bad, epochs=1, progress=False)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        fit(cifar_model(), tiny_cifar(64), resume=tmp_path / "none.pt", epochs=1, progress=False)


class Exploding(nn.Module):
    """A classifier whose logits become NaN from its ``explode_at``-th training call."""

    def __init__(self, explode_at: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
        self.calls = 0
        self.explode_at = explode_at

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        if self.training:
            self.calls += 1
            if self.calls >= self.explode_at:
                out = out * float("nan")
        return out


def test_nan_loss_stops_with_clear_error_and_keeps_checkpoint(tmp_path: Path) -> None:
    ck = tmp_path / "run.pt"
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at step 6.*run\.pt"):
        fit(
            Exploding(explode_at=6),
            tiny_cifar(128),
            epochs=5,
            batch_size=32,
            checkpoint=ck,
            progress=False,
        )
    state = load_checkpoint(ck)
    assert state["step"] == 4  # the end of epoch 1, the last good state
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_sigterm_writes_checkpoint_then_resumes(tmp_path: Path) -> None:
    ck = tmp_path / "run.pt"
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        with pytest.raises(TrainingInterrupted, match="SIGTERM"):
            fit(
                cifar_model(),
                tiny_cifar(256),
                budget=60,
                batch_size=32,
                checkpoint=ck,
                progress=False,
            )
    finally:
        timer.cancel()
    state = load_checkpoint(ck)
    assert state["step"] > 0
    assert 1.0 < state["spent_s"] < 30
    history = fit(
        cifar_model(),
        tiny_cifar(256),
        budget=60,
        batch_size=32,
        checkpoint=ck,
        resume=True,
        progress=False,
        max_steps=state["step"] + 1,
    )
    assert history.steps == state["step"] + 1
    assert history.total_s > state["spent_s"]  # the budget already spent carries over


_KILL_WHILE_WRITING = r"""
import sys, time, torch
from alnumzoo.training import save_checkpoint
path = sys.argv[1]
save_checkpoint(path, {"step": 1, "weights": torch.ones(3)})
real_write = open
class Slow:
    def __init__(self, f): self.f = f
    def write(self, data):
        self.f.write(data[: len(data) // 2]); self.f.flush()
        print("writing", flush=True); time.sleep(60)
    def flush(self): pass
    def __enter__(self): return self
    def __exit__(self, *a): self.f.close()
import builtins
def slow_open(p, m="r", *a, **k):
    f = real_write(p, m, *a, **k)
    return Slow(f) if "w" in m else f
builtins.open = slow_open
save_checkpoint(path, {"step": 2, "weights": torch.zeros(1000)})
"""


def test_checkpoint_survives_kill_during_write(tmp_path: Path) -> None:
    path = tmp_path / "ck.pt"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_WHILE_WRITING, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait()
    state = load_checkpoint(path)
    assert state["step"] == 1
    assert torch.equal(state["weights"], torch.ones(3))


def test_generic_dataset_trains_through_dataloader() -> None:
    data = tiny_cifar(96)
    items = [data[i] for i in range(len(data))]

    class ListDataset(torch.utils.data.Dataset[tuple[torch.Tensor, int]]):
        labels = data.labels

        def __len__(self) -> int:
            return len(items)

        def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
            return items[i]

    history = fit(
        cifar_model(), ListDataset(), ListDataset(), epochs=2, batch_size=32, progress=False
    )
    assert history.steps == 6
    assert history.records[-1].val_acc is not None


def test_parameter_budget_helper() -> None:
    model = alnumzoo.create_model("lite_resnet")
    assert alnumzoo.check_parameter_budget(model) == alnumzoo.count_parameters(model)
    with pytest.raises(alnumzoo.ParameterBudgetError):
        alnumzoo.check_parameter_budget(alnumzoo.create_model("efficientnet_b2"))
    assert math.isfinite(alnumzoo.count_parameters(model))


def test_slow_validation_cannot_eat_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """An evaluation estimated at longer than the budget reserves at most MAX_RESERVE of it,
    with a warning, so the run still trains for most of its budget."""
    monkeypatch.setattr(loop, "estimate_eval_s", lambda *a, **k: 1000.0)
    with pytest.warns(UserWarning, match=r"final evaluation is estimated at \d+ s"):
        history = fit(cifar_model(), tiny_cifar(256), tiny_cifar(32, 1), budget=4,
                      batch_size=32, progress=False)  # fmt: skip
    assert history.stop_reason == "budget"
    assert sum(r.train_s for r in history.records) > 2.5  # about 3.5 of the 4 s trained


@pytest.mark.slow  # end to end: three budgeted runs on the wall clock
def test_auto_evaluation_skips_costly_mid_run_passes_under_a_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """eval_every="auto": under a budget a validation pass that costs more than 2% of an
    epoch is made only at the end; by epochs (or with eval_every=1) every epoch is scored."""
    monkeypatch.setattr(loop, "estimate_eval_s", lambda *a, **k: 0.5)
    data, val = tiny_cifar(64), tiny_cifar(32, 1)
    budgeted = fit(cifar_model(), data, val, budget=5, batch_size=32, progress=False)
    scored = [r.val_acc is not None for r in budgeted.records]
    assert len(scored) >= 2
    assert scored == [False] * (len(scored) - 1) + [True]
    every = fit(cifar_model(), data, val, budget=3, batch_size=32, eval_every=1, progress=False)
    assert all(r.val_acc is not None for r in every.records)
    by_epochs = fit(cifar_model(), data, val, epochs=3, batch_size=32, progress=False)
    assert all(r.val_acc is not None for r in by_epochs.records)


def test_resume_refuses_a_checkpoint_from_another_recipe(tmp_path: Path) -> None:
    ck = tmp_path / "run.pt"
    fit(cifar_model(), tiny_cifar(64), epochs=1, batch_size=32, checkpoint=ck, progress=False)
    with pytest.raises(CheckpointError, match=r"different recipe \(.*optimizer"):
        fit(cifar_model(), tiny_cifar(64), epochs=1, batch_size=32, recipe="report",
            checkpoint=ck, resume=ck, progress=False)  # fmt: skip


def test_short_runs_log_steps_and_cut_the_final_evaluation_to_the_budget() -> None:
    """A validation set too large to score within the budget is scored as a class-balanced
    sample (the wall-time target itself is measured by benchmarks/budget_keeping.py, not in a
    timed test), and a run of one epoch still has curves."""
    from _tiny import tiny_cifar

    train = tiny_cifar(1024)
    val = tiny_cifar(8192, seed=1)
    history = fit(cifar_model(), train, val, budget=4, batch_size=16, progress=False,
                  amp=False, channels_last=False)  # fmt: skip
    assert history.final_eval_images is not None
    assert 256 <= history.final_eval_images < len(val)
    assert history.final_eval_images % 10 == 0  # the same number from every class
    assert len(history.step_records) >= 2
    steps = [r.step for r in history.step_records]
    assert steps == sorted(steps)
    assert all(math.isfinite(r.train_loss) and r.lr >= 0 for r in history.step_records)
    restored = History.from_dict(history.to_dict())
    assert restored.step_records == history.step_records


def test_fine_tuning_is_detected_lowers_the_rate_and_never_ends_below_the_start(
    tmp_path: Path,
) -> None:
    from alnumzoo.training import FINE_TUNE_LR_FACTOR

    trained = cifar_model()
    # Augmented although the run is short: 320 images are memorised in four passes without it.
    augmenting = get_recipe("default", "cifar_cnn").with_overrides(augment_min_epochs=0)
    fit(trained, tiny_cifar(320), epochs=4, batch_size=32, recipe=augmenting, progress=False)
    folder = alnumzoo.save_pretrained(trained, tmp_path / "trained")
    val = tiny_cifar(100, 1)
    start = alnumzoo.evaluate(alnumzoo.from_pretrained(folder), val).accuracy
    assert start >= 0.9

    # Labels shuffled: training can only make the weights worse on the true labels.
    scrambled = tiny_cifar(320)
    scrambled.targets = scrambled.targets[
        torch.randperm(320, generator=torch.Generator().manual_seed(0))
    ]
    model = alnumzoo.from_pretrained(folder)
    history = fit(model, scrambled, val, epochs=3, batch_size=32, progress=False)
    assert history.fine_tuned
    assert history.recipe == "default+fine-tune"
    assert history.start_acc == pytest.approx(start)
    assert history.selected == "best"
    assert history.best_epoch == 0
    assert alnumzoo.evaluate(model, val).accuracy == pytest.approx(start)
    lrs = [r.lr for r in history.step_records]
    default = get_recipe("default", "cifar_cnn")
    peak = default.lr * 32 / default.batch_size * FINE_TUNE_LR_FACTOR  # at batch 32, a tenth
    assert 0.8 * peak <= max(lrs) <= peak + 1e-9

    # A fresh model, or an explicit recipe or rate, trains as asked.
    assert not fit(cifar_model(), tiny_cifar(64), epochs=1, progress=False).fine_tuned
    explicit = fit(alnumzoo.from_pretrained(folder), tiny_cifar(64), epochs=1, lr=0.05,
                   progress=False)  # fmt: skip
    assert not explicit.fine_tuned
    with pytest.raises(ValueError, match="fine_tune must be"):
        fit(cifar_model(), tiny_cifar(64), epochs=1, fine_tune="yes", progress=False)


def test_a_run_too_short_for_the_recipe_leaves_augmentation_out() -> None:
    recipe = get_recipe("default", "cifar_cnn").with_overrides(augment_min_epochs=3)
    short = fit(cifar_model(), tiny_cifar(64), None, epochs=2, batch_size=32, recipe=recipe,
                progress=False)  # fmt: skip
    assert short.augment is None
    long = fit(cifar_model(), tiny_cifar(64), None, epochs=3, batch_size=32, recipe=recipe,
               progress=False)  # fmt: skip
    assert long.augment == "cifar10"


def test_planned_passes_come_from_epochs_or_the_budget_at_the_measured_rate() -> None:
    from alnumzoo.training.rules import augment_choice, planned_epochs

    assert planned_epochs(4, 60.0, 1000.0, 500) == 4.0
    assert planned_epochs(None, 60.0, 1000.0, 30_000) == pytest.approx(2.0)
    assert planned_epochs(None, 60.0, None, 30_000) is None  # no probe: length unknown
    recipe = get_recipe("default", "crnn").with_overrides(augment_min_epochs=4.0)
    assert augment_choice(recipe, "fashion_mnist", 2.0) is None
    assert augment_choice(recipe, "fashion_mnist", 4.0) == "fashion_mnist"
    assert augment_choice(recipe, "fashion_mnist", None) == "fashion_mnist"
    # A resumed run keeps its first decision, whatever this run's (missing) rate says; a
    # decision for another preset is another recipe's, and this run's stands.
    assert augment_choice(recipe, "fashion_mnist", None, {"augment": None}) is None
    assert augment_choice(recipe, "fashion_mnist", 2.0, {"augment": "fashion_mnist"}) == (
        "fashion_mnist"
    )
    assert augment_choice(recipe, "fashion_mnist", 2.0, {"augment": "cifar10"}) is None


def test_auto_tta_is_the_views_the_weights_trained_on() -> None:
    """A run that never trained on an augmented image gets no "auto" TTA, in fit's final
    score, in its record and in evaluate(tta="auto") afterwards; one that did keeps the
    data's views, and an explicit mode always stands."""
    from alnumzoo.training.rules import weights_tta

    # Augments from the second epoch (from 0: 1), however short the run.
    recipe = get_recipe("default", "cifar_cnn").with_overrides(augment_min_epochs=0.0)
    assert recipe.tta == "auto"
    assert recipe.augment_from_epoch == 1
    assert weights_tta(recipe, "flip", "cifar10", {"epoch": 1, "batch": 0}) is None
    assert weights_tta(recipe, "flip", "cifar10", {"epoch": 1, "batch": 3}) == "flip"
    assert weights_tta(recipe, "flip", "cifar10", {"epoch": 2, "batch": 0}) == "flip"
    assert weights_tta(recipe, "flip", None, {"epoch": 5, "batch": 0}) is None
    explicit = recipe.with_overrides(tta="flip")
    assert weights_tta(explicit, "flip", None, {"epoch": 1, "batch": 0}) == "flip"

    val = tiny_cifar(32)
    one = cifar_model()
    h1 = fit(one, tiny_cifar(64), val, epochs=1, batch_size=32, recipe=recipe, progress=False)
    assert h1.augment == "cifar10"
    assert h1.recipe_detail["tta"] is None
    assert h1.tta_acc == h1.selected_acc  # nothing else was scored
    assert one.record.recipe is not None
    assert one.record.recipe["tta"] is None
    assert alnumzoo.evaluate(one, val, tta="auto").tta is None
    two = cifar_model()
    h2 = fit(two, tiny_cifar(64), val, epochs=2, batch_size=32, recipe=recipe, progress=False)
    assert h2.recipe_detail["tta"] == "flip"
    assert alnumzoo.evaluate(two, val, tta="auto").tta == "flip"


def test_fit_signature_and_fit_options_spell_the_same_options() -> None:
    """fit's keywords and FitOptions' fields: the same names, in order, types and defaults,
    so an option added to one and not the other fails here, not silently in a run."""
    import dataclasses
    import inspect

    from alnumzoo.training import FitOptions

    keywords = [
        p for p in inspect.signature(fit).parameters.values() if p.kind is p.KEYWORD_ONLY
    ]
    options = dataclasses.fields(FitOptions)
    assert [p.name for p in keywords] == [f.name for f in options]
    for parameter, field in zip(keywords, options, strict=True):
        assert parameter.default == field.default, field.name
        assert parameter.annotation == field.type, field.name
    with pytest.raises(TypeError, match="no value for"):
        FitOptions.from_arguments({"budget": 1.0})
