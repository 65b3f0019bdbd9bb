"""fit(): train a model for a wall-clock budget or a number of epochs, resumably."""

from __future__ import annotations

import copy
import math
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel, update_bn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from alnumzoo.training.budget import BudgetClock, parse_budget
from alnumzoo.training.checkpoint import (
    CheckpointError,
    data_fingerprint,
    load_checkpoint,
    save_checkpoint,
)
from alnumzoo.training.cpu_speed import CpuExecution, probe_cpu_execution
from alnumzoo.training.device import autocast, autocast_dtype, resolve_device
from alnumzoo.training.distributed import (
    DistInfo,
    average_buffers,
    init_distributed,
    launch_local,
    max_across_ranks,
)
from alnumzoo.training.evaluate import EvalResult, evaluate, require_matching_classes
from alnumzoo.training.history import EpochRecord, History, StepRecord
from alnumzoo.training.loaders import make_loader, resolve_augment, validation_sample
from alnumzoo.training.recipes import Recipe, get_recipe
from alnumzoo.training.schedule import ProgressLR, lr_factor_fn
from alnumzoo.training.tta import default_tta, tta_views

__all__ = ["NonFiniteLossError", "TrainingInterrupted", "build_optimizer", "fit"]

# On CUDA the clock is synchronised every few steps only: a sync per step would stall the
# launch queue, which is most of the time for models this small.
_CUDA_SYNC_EVERY = 8
# The largest share of a budget held back for the final evaluation and checkpoint.
_MAX_RESERVE = 0.25
# Overrun allowed before the final evaluation is cut to a validation sample, and the smallest
# sample it is cut to.
_FINAL_SLACK = 0.05
_STEP_RECORDS_PER_EPOCH = 20
_MIN_FINAL_IMAGES = 256
# The CPU speed probe costs a few seconds; below these sizes a run keeps plain fp32 NCHW.
_PROBE_MIN_BUDGET_S = 60.0
_PROBE_MIN_IMAGES = 20_000


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; the last good checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C or SIGTERM after writing a checkpoint to resume from."""


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


def _ema_fn(decay: float) -> Callable[[_Tensors, _Tensors, torch.Tensor | int], None]:
    # Warmed-up decay: early averages are not dominated by the random initial weights.
    def update(averaged: _Tensors, current: _Tensors, n: torch.Tensor | int) -> None:
        d = min(decay, (1 + float(n)) / (10 + float(n)))
        for a, c in zip(averaged, current, strict=True):
            if a.is_floating_point():
                a.lerp_(c.to(a.dtype), 1 - d)
            else:
                a.copy_(c)

    return update


@contextmanager
def _stop_signals() -> Iterator[list[str]]:
    """Turn the first Ctrl-C or SIGTERM into a flag the loop checks between steps, so the
    checkpoint is written from a consistent state, never from inside an optimizer step."""
    flag: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        flag.append(signal.Signals(signum).name)
        for s, h in previous.items():
            signal.signal(s, h)  # a second signal acts as usual

    for s in previous:
        signal.signal(s, handler)
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@torch.no_grad()
def _estimate_eval_s(
    model: nn.Module, val_loader: Any, passes: int, cast: torch.dtype | None
) -> float:
    """Seconds the final evaluation will take, from one timed validation batch, so the budget
    keeps room for it from the start."""
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
    return per_batch * len(val_loader) * passes + 1.0


def _check_arguments(**values: Any) -> None:
    """Refuse out-of-range numbers before anything runs (``0`` never means "default")."""
    at_least_one = ("batch_size", "max_steps", "eval_every", "eval_batch_size", "devices",
                    "epochs")  # fmt: skip
    for name in at_least_one:
        value = values[name]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):  # fmt: skip
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    workers = values["workers"]
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be a non-negative integer, got {workers!r}")
    lr, reserve, target = values["lr"], values["reserve"], values["target"]
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


def _cpu_execution(
    model: nn.Module,
    train: Dataset[Any],
    batch_size: int,
    channels_last: bool | str,
    amp: bool | str,
    state: dict[str, Any] | None,
    *,
    probe: bool,
) -> CpuExecution:
    """Memory format and precision on the CPU: a resumed run keeps its checkpoint's; ``"auto"``
    settings are measured ([`probe_cpu_execution`][alnumzoo.training.cpu_speed.probe_cpu_execution])
    for runs long enough to repay the probe's few seconds, and are plain fp32 NCHW otherwise."""
    if state is not None and "execution" in state:
        kept = state["execution"]
        dtype = torch.bfloat16 if kept["precision"] == "bf16" else None
        return CpuExecution(channels_last=bool(kept["channels_last"]), autocast_dtype=dtype)
    force_cl = None if channels_last == "auto" else bool(channels_last)
    force_bf16 = None if amp == "auto" else bool(amp)
    if not probe or len(train) == 0:  # type: ignore[arg-type]
        return CpuExecution(
            channels_last=bool(force_cl), autocast_dtype=torch.bfloat16 if force_bf16 else None
        )
    sample, _ = train[0]
    shape = (batch_size, *torch.as_tensor(sample).shape)
    with torch.random.fork_rng(devices=[]):
        x = torch.rand(shape)
    y = torch.zeros(batch_size, dtype=torch.long)
    return probe_cpu_execution(model, x, y, channels_last=force_cl, bf16=force_bf16)


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists, so recipe fields compare equal however they were stored."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _state_copy(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def fit(
    model: nn.Module,
    train: Dataset[Any],
    val: Dataset[Any] | None = None,
    *,
    budget: str | float | None = None,
    epochs: int | None = None,
    target: float | None = None,
    recipe: str | Recipe = "default",
    device: str | torch.device = "auto",
    batch_size: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    resume: str | Path | bool | None = None,
    max_steps: int | None = None,
    progress: bool = True,
    amp: bool | str = "auto",
    channels_last: bool | str = "auto",
    compile: bool | str = "auto",
    eval_every: int = 1,
    reserve: float | None = None,
    eval_batch_size: int = 512,
    workers: int = 0,
    devices: int | None = None,
    resume_anyway: bool = False,
) -> History:
    """Train ``model`` on ``train``; return a [`History`][alnumzoo.training.history.History] and
    leave the chosen weights in ``model`` (in eval mode).

    Stop rules: ``budget`` (wall-clock, e.g. ``"15m"`` or seconds) makes the learning-rate
    schedule follow the clock, so it warms up and decays to zero exactly when the budget
    (less ``reserve`` for the final evaluation and checkpoint) runs out; ``epochs`` does the
    same over a number of epochs; with neither, the recipe's epoch count applies. ``target``
    stops as soon as validation accuracy reaches it; ``max_steps`` stops after that many
    optimizer steps without changing the schedule (to split a run into resumable pieces).

    Args:
        model: The model to train (moved to ``device``).
        train: Training data: an in-memory data set (kept on the device, augmented in batches)
            or any map-style data set of ``(image, label)``.
        val: Validation data for per-epoch accuracy, best-weights selection and ``target``.
        budget: Wall-clock budget.
        epochs: Number of epochs.
        target: Validation accuracy in [0, 1] at which to stop.
        recipe: ``"default"``, ``"report"`` or a [`Recipe`][alnumzoo.training.recipes.Recipe].
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda:1"``...
        batch_size: Overrides the recipe's batch size; unless ``lr`` is given too, the
            learning rate scales with it linearly.
        lr: Overrides the recipe's learning rate.
        seed: Seed of initial weights' RNG use, data order, augmentation and dropout.
        checkpoint: File to write atomically after every epoch, at ``max_steps`` and on
            Ctrl-C/SIGTERM.
        resume: A checkpoint to continue exactly (model, optimizer, schedule position, EMA/SWA,
            scaler, RNG states, data position, budget spent); ``True`` means ``checkpoint``.
        max_steps: Stop after this many optimizer steps in total.
        progress: Show a tqdm bar (terminal or notebook).
        amp: Mixed precision. On CUDA ``"auto"``/``True`` mean bf16 where supported, else
            fp16 with a gradient scaler. On the CPU ``"auto"`` uses bf16 autocast only where
            the CPU has native bf16 and a short probe measures it faster
            ([`probe_cpu_execution`][alnumzoo.training.cpu_speed.probe_cpu_execution]); ``True``
            forces bf16. ``False`` is fp32 everywhere.
        channels_last: Channels-last memory format: ``"auto"`` is on for CUDA and measured on
            the CPU (runs of a minute or 20,000 images and more; shorter ones stay NCHW).
        compile: ``torch.compile`` the training forward (``"auto"``: on a single CUDA
            device with a budget of 10 minutes or more, where compile time pays back).
        eval_every: Evaluate every this many epochs (and always at the end).
        reserve: Seconds of the budget kept for the final evaluation and checkpoint
            (default: measured from the evaluations, at least 2% of the budget).
        eval_batch_size: Batch size for evaluation.
        workers: ``DataLoader`` workers for data sets that are not in memory.
        devices: Train with this many processes on this machine (one per GPU on CUDA, gloo
            processes on the CPU), started by ``fit`` itself; the trained weights come back
            into ``model``. Under torchrun, leave it ``None``.
        resume_anyway: Resume even though the batch size, learning rate or training data
            (size or fingerprint) differ from the checkpoint's; by default that is refused,
            since the run would no longer be the one that was started.

    Under torchrun (``WORLD_SIZE`` > 1) every process calls ``fit`` with the same arguments:
    the model is wrapped in ``DistributedDataParallel`` (NCCL on CUDA, gloo on the CPU), data
    are sharded by rank, evaluation counts are summed once per evaluation, and the slowest
    rank's clock decides when the budget ends. Only rank 0 shows progress and writes
    checkpoints.

    Raises:
        NonFiniteLossError: the loss became NaN/inf (the last checkpoint is kept).
        TrainingInterrupted: Ctrl-C or SIGTERM; the checkpoint to resume from is written first.
        CheckpointError: ``resume`` points at a missing or foreign checkpoint, or one written
            with another recipe, batch size, learning rate or training set.
        ValueError: an argument is out of range (every number is checked), the data are
            empty, or the model's outputs do not match the data's classes.
    """
    _check_arguments(
        batch_size=batch_size, lr=lr, max_steps=max_steps, eval_every=eval_every,
        reserve=reserve, eval_batch_size=eval_batch_size, workers=workers, devices=devices,
        epochs=epochs, target=target,
    )  # fmt: skip
    if devices is not None and devices > 1 and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        options = dict(
            budget=budget, epochs=epochs, target=target, recipe=recipe, device=device,
            batch_size=batch_size, lr=lr, seed=seed, checkpoint=checkpoint, resume=resume,
            max_steps=max_steps, progress=progress, amp=amp, channels_last=channels_last,
            compile=compile, eval_every=eval_every, reserve=reserve,
            eval_batch_size=eval_batch_size, workers=workers, resume_anyway=resume_anyway,
        )  # fmt: skip
        return launch_local(model, train, val, options, devices)
    dev = resolve_device(device)
    info = init_distributed(dev)
    if dev.type == "cuda" and info.world_size > 1:
        dev = torch.device("cuda", info.local_rank)
    try:
        # Signals are caught from the start: one arriving during set-up (CPU probe, resume)
        # still ends in a checkpoint and TrainingInterrupted at the first step.
        with _stop_signals() as stop_flag:
            return _fit(
                model,
                train,
                val,
                budget=budget,
                epochs=epochs,
                target=target,
                recipe=recipe,
                device=dev,
                batch_size=batch_size,
                lr=lr,
                seed=seed,
                checkpoint=checkpoint,
                resume=resume,
                max_steps=max_steps,
                progress=progress,
                amp=amp,
                channels_last=channels_last,
                compile=compile,
                eval_every=eval_every,
                reserve=reserve,
                eval_batch_size=eval_batch_size,
                workers=workers,
                info=info,
                stop_flag=stop_flag,
                resume_anyway=resume_anyway,
            )
    finally:
        if info.owns_group:
            torch.distributed.destroy_process_group()


def _fit(
    model: nn.Module,
    train: Dataset[Any],
    val: Dataset[Any] | None,
    *,
    budget: str | float | None,
    epochs: int | None,
    target: float | None,
    recipe: str | Recipe,
    device: torch.device,
    batch_size: int | None,
    lr: float | None,
    seed: int,
    checkpoint: str | Path | None,
    resume: str | Path | bool | None,
    max_steps: int | None,
    progress: bool,
    amp: bool | str,
    channels_last: bool | str,
    compile: bool | str,
    eval_every: int,
    reserve: float | None,
    eval_batch_size: int,
    workers: int,
    info: DistInfo,
    stop_flag: list[str],
    resume_anyway: bool,
) -> History:
    arch = str(getattr(model, "arch", type(model).__name__.lower()))
    rec = get_recipe(recipe, arch)
    budget_s = parse_budget(budget) if budget is not None else None
    if target is not None and val is None:
        raise ValueError("target needs validation data (val=...)")
    resume_from: str | Path | None = None
    if resume is True:
        if checkpoint is None:
            raise ValueError("resume=True needs checkpoint=PATH")
        resume_from = checkpoint
    elif resume is not None and resume is not False:
        resume_from = resume
    if len(train) == 0:  # type: ignore[arg-type]
        raise ValueError("the training set is empty")
    if val is not None and len(val) == 0:  # type: ignore[arg-type]
        raise ValueError("the validation set is empty; pass val=None to train without one")
    require_matching_classes(model, getattr(train, "labels", None), "training")
    total_epochs = epochs if epochs is not None else (None if budget_s else rec.epochs)
    bs = batch_size or rec.batch_size
    # A different batch size keeps the recipe's rate per image (the linear scaling rule).
    base_lr = lr if lr is not None else rec.lr * bs / rec.batch_size
    labels = getattr(train, "labels", None) or getattr(model, "labels", None)
    tta = default_tta(labels) if rec.tta == "auto" else rec.tta
    state = load_checkpoint(resume_from, map_location=device) if resume_from is not None else None
    # The clock starts before any set-up work (the CPU probe included): a budget is wall time.
    clock = BudgetClock(device, already_spent=float(state["spent_s"]) if state is not None else 0.0)

    torch.manual_seed(seed)
    model.to(device)
    probe_rates: dict[str, float] = {}
    if device.type == "cuda":
        use_cl = True if channels_last == "auto" else bool(channels_last)
        cast = autocast_dtype(device, amp)
    else:
        long_run = (budget_s or 0) >= _PROBE_MIN_BUDGET_S or (
            total_epochs is not None and total_epochs * len(train) >= _PROBE_MIN_IMAGES  # type: ignore[arg-type]
        )
        execution = _cpu_execution(
            model, train, bs, channels_last, amp, state, probe=long_run and info.world_size == 1
        )
        use_cl, cast = execution.channels_last, execution.autocast_dtype
        probe_rates = execution.images_per_s
    if use_cl:
        model.to(memory_format=torch.channels_last)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    augment = resolve_augment(rec.augment, labels)

    def loader(data: Dataset[Any], size: int, training: bool) -> Any:
        return make_loader(
            data,
            size,
            train=training,
            augment=augment if training else None,
            device=device,
            seed=seed,
            channels_last=use_cl,
            rank=info.rank,
            world_size=info.world_size,
            workers=workers,
        )

    train_loader = loader(train, bs, True)
    val_loader = loader(val, eval_batch_size, False) if val is not None else None
    steps_per_epoch = len(train_loader)
    if steps_per_epoch == 0:
        raise ValueError("the training set is empty")
    log_every = max(1, steps_per_epoch // _STEP_RECORDS_PER_EPOCH)
    total_steps = total_epochs * steps_per_epoch if total_epochs is not None else None

    run_identity = {
        "batch_size": bs,
        "lr": base_lr,
        "train_size": len(train),  # type: ignore[arg-type]
        "train_fingerprint": data_fingerprint(train),
    }
    optimizer = build_optimizer(model, rec, base_lr)
    factor = lr_factor_fn(
        rec.schedule,
        warmup=rec.warmup,
        total_epochs=float(total_epochs or rec.epochs),
        step_epochs=rec.step_epochs,
        step_gamma=rec.step_gamma,
        phases=rec.phases,
        base_lr=base_lr,
    )
    scheduler = ProgressLR(optimizer, factor)
    scaler = torch.amp.GradScaler("cuda", enabled=cast == torch.float16)
    ema = (
        AveragedModel(model, multi_avg_fn=_ema_fn(rec.ema_decay), use_buffers=True)
        if rec.ema_decay
        else None
    )
    swa = AveragedModel(model) if rec.swa_start is not None else None
    criterion = nn.CrossEntropyLoss(label_smoothing=rec.label_smoothing)

    history = History(
        budget_s=budget_s,
        device=str(device),
        recipe=rec.name,
        precision={None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[cast],
        channels_last=use_cl,
        cpu_probe={k: round(v, 1) for k, v in probe_rates.items()},
        world_size=info.world_size,
    )
    step, best_acc, best_state, best_epoch = 0, -1.0, None, None
    if state is not None:
        if state.get("arch") != arch:
            raise CheckpointError(
                f"{resume_from} was written for {state.get('arch')!r}, not {arch!r}"
            )
        written = state.get("recipe", {})
        current = {k: v for k, v in asdict(rec).items() if k != "extra"}
        changed = sorted(
            k for k in current if k in written and _plain(written[k]) != _plain(current[k])
        )
        if changed:
            raise CheckpointError(
                f"{resume_from} was written with a different recipe ({', '.join(changed)} "
                f"differ); resume with the recipe it was started with"
            )
        started = state.get("run")
        if started is not None and not resume_anyway:
            differ = [
                f"{k}: {started[k]} then, {now} now"
                for k, now in run_identity.items()
                if k in started and started[k] != now
            ]
            if differ:
                raise CheckpointError(
                    f"{resume_from} was started with other settings ({'; '.join(differ)}); "
                    "resume with the same ones, or pass resume_anyway=True to continue anyway"
                )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        if ema is not None and state.get("ema") is not None:
            ema.load_state_dict(state["ema"])
        if swa is not None and state.get("swa") is not None:
            swa.load_state_dict(state["swa"])
        train_loader.load_state_dict(state["loader"])
        torch.set_rng_state(state["rng"]["torch"].cpu())
        if device.type == "cuda" and state["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(state["rng"]["cuda"].cpu(), device)
        step = int(state["step"])
        best_acc = float(state["best_acc"])
        best_epoch = state["best_epoch"]
        best_state = state["best_state"]
        history = History.from_dict(state["history"])

    want_compile = compile is True or (
        compile == "auto"
        and device.type == "cuda"
        and info.world_size == 1
        and (budget_s or 0) >= 600
    )
    forward_model: nn.Module = model
    if info.world_size > 1:
        forward_model = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    if want_compile:
        forward_model = torch.compile(forward_model)  # type: ignore[assignment]

    eval_cost = (
        _estimate_eval_s(model, val_loader, tta_views(tta) + 2, cast)
        if budget_s is not None and val_loader is not None
        else 0.0
    )
    reserve_s = reserve if reserve is not None else 0.02 * (budget_s or 0.0)

    if budget_s is not None and eval_cost > _MAX_RESERVE * budget_s:
        warnings.warn(
            f"the final evaluation is estimated at {eval_cost:.0f} s of the {budget_s:.0f} s "
            f"budget for the whole validation set; at most {_MAX_RESERVE:.0%} is reserved for "
            "it, so it will score a class-balanced sample of the validation set "
            "(History.final_eval_images says how many)",
            stacklevel=3,
        )

    def progress_now(sync: bool) -> float:
        if budget_s is not None:
            # Never let evaluation eat the budget: a slow validation set makes the run end
            # late rather than train for almost nothing.
            kept = min(max(reserve_s, eval_cost), _MAX_RESERVE * budget_s)
            usable = max(budget_s - kept, 1e-9)
            p = clock.elapsed(sync) / usable
            if total_steps is not None:
                p = max(p, step / total_steps)
            return max_across_ranks(p, info, device)
        assert total_steps is not None
        return step / total_steps

    def checkpoint_state() -> dict[str, Any]:
        return {
            "arch": arch,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict(),
            "ema": ema.state_dict() if ema is not None else None,
            "swa": swa.state_dict() if swa is not None else None,
            "loader": train_loader.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            },
            "step": step,
            "spent_s": clock.elapsed(),
            "best_acc": best_acc,
            "best_epoch": best_epoch,
            "best_state": best_state,
            "history": history.to_dict(),
            "recipe": {k: v for k, v in asdict(rec).items() if k != "extra"},
            "execution": {"channels_last": use_cl, "precision": history.precision},
            "run": run_identity,
        }

    def write_checkpoint() -> None:
        if checkpoint is not None and info.is_main:
            save_checkpoint(checkpoint, checkpoint_state())

    eval_loader = val_loader  # the final evaluation may use a sample (final_eval_loader)

    def run_eval(module: nn.Module, mode: str | None = None) -> EvalResult:
        assert eval_loader is not None
        final = bool(stop_reason)
        return evaluate(
            module,
            eval_loader,
            tta=mode,
            device=device,
            autocast_dtype=cast,
            progress=("final evaluation" if final else "validation")
            if progress and info.is_main
            else False,
        )

    def final_eval_loader() -> Any:
        """The validation data for the final evaluation: all of it when it fits in what is
        left of the budget (plus a small slack), else a class-balanced sample that does, so a
        budget holds with its final evaluation included."""
        if budget_s is None or val is None or val_loader is None:
            return val_loader
        passes = tta_views(tta) + 2
        per_image = max(eval_cost - 1.0, 1e-6) / passes / len(val)  # type: ignore[arg-type]
        left = (1 + _FINAL_SLACK) * budget_s - clock.elapsed()
        affordable = int(left / (passes * per_image))
        if affordable >= len(val):  # type: ignore[arg-type]
            return val_loader
        sample = validation_sample(val, max(affordable, _MIN_FINAL_IMAGES))
        history.final_eval_images = len(sample)  # type: ignore[arg-type]
        return loader(sample, eval_batch_size, False)

    bar = tqdm(
        total=1000,
        disable=not progress or not info.is_main,
        desc=f"{arch} ({rec.name})",
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}",
        dynamic_ncols=True,
    )
    stop_reason = ""
    last_eval: tuple[int, float] | None = None
    p = progress_now(sync=True) if step else 0.0
    last_sync = step
    try:
        while not stop_reason:
            model.train()
            epoch = train_loader.epoch + 1
            loss_sum = torch.zeros((), device=device)
            logged = (0.0, 0)  # loss sum and images at the last step record
            correct = torch.zeros((), device=device, dtype=torch.int64)
            seen = 0
            epoch_start = clock.elapsed()
            for x, y in train_loader:
                with autocast(device, cast):
                    logits = forward_model(x)
                    loss = criterion(logits.float(), y)
                scaler.scale(loss).backward()
                if rec.grad_clip is not None:
                    scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(model.parameters(), rec.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
                if ema is not None:
                    ema.update_parameters(model)
                step += 1
                loss_sum += loss.detach() * len(y)
                correct += (logits.detach().argmax(1) == y).sum()
                seen += len(y)
                if step % log_every == 0:
                    total = float(loss_sum)
                    history.step_records.append(
                        StepRecord(
                            step=step,
                            elapsed_s=clock.elapsed(False),
                            train_loss=(total - logged[0]) / max(seen - logged[1], 1),
                            lr=float(optimizer.param_groups[0]["lr"]),
                        )
                    )
                    logged = (total, seen)
                sync = device.type != "cuda" or step - last_sync >= _CUDA_SYNC_EVERY
                if sync:
                    last_sync = step
                    if not math.isfinite(float(loss_sum)):
                        bad = float(loss.detach())
                        raise NonFiniteLossError(
                            f"training loss became {bad:.4g} at step {step} (epoch "
                            f"{epoch}); lower the learning rate or check the data. "
                            + (
                                f"The last good checkpoint is {checkpoint}."
                                if checkpoint is not None
                                else "No checkpoint was being written."
                            )
                        )
                p = progress_now(sync)
                scheduler.set_progress(p)
                scheduler.step()
                if sync and bar.total:
                    bar.n = min(1000, int(p * 1000))
                    rate = seen * info.world_size / max(clock.elapsed(False) - epoch_start, 1e-9)
                    bar.set_postfix_str(
                        f"epoch {epoch} loss {float(loss_sum) / seen:.3f} "
                        f"acc {float(correct) / seen:.3f} {rate:,.0f} img/s"
                        + (
                            f" left {max(0.0, budget_s - clock.elapsed(False)):,.0f}s"
                            if budget_s
                            else ""
                        ),
                        refresh=False,
                    )
                    bar.refresh()
                if stop_flag:
                    break
                if p >= 1.0:
                    stop_reason = (
                        "budget"
                        if budget_s is not None and (total_steps is None or step < total_steps)
                        else "epochs"
                    )
                    break
                if max_steps is not None and step >= max_steps:
                    stop_reason = "max_steps"
                    break
            if stop_flag:
                write_checkpoint()
                raise TrainingInterrupted(
                    f"training stopped by {stop_flag[0]} at step {step}"
                    + (f"; resume with resume={str(checkpoint)!r}" if checkpoint else "")
                )
            if swa is not None and rec.swa_start is not None and p >= rec.swa_start:
                swa.update_parameters(model)
            for synced in (model, ema.module if ema is not None else None):
                if synced is not None:
                    average_buffers(synced, info)
            epoch_done = train_loader.state_dict()["batch"] == 0
            train_s = clock.elapsed() - epoch_start
            val_loss = val_acc = None
            eval_s = 0.0
            if val_loader is not None and (
                stop_reason or epoch % eval_every == 0 or not epoch_done
            ):
                if stop_reason:
                    eval_loader = final_eval_loader()
                t0 = clock.elapsed()
                result = run_eval(ema.module if ema is not None else model)
                eval_s = clock.elapsed() - t0
                # The final evaluation scores the raw and averaged weights, then TTA.
                if eval_loader is val_loader:
                    eval_cost = eval_s * (tta_views(tta) + 2) + 1.0
                val_loss, val_acc = result.loss, result.accuracy
                last_eval = (step, val_acc)
                if val_acc > best_acc:
                    best_acc, best_epoch = val_acc, epoch
                    best_state = _state_copy(ema.module if ema is not None else model)
                if target is not None and val_acc >= target and not stop_reason:
                    stop_reason = "target"
            history.records.append(
                EpochRecord(
                    epoch=epoch,
                    step=step,
                    lr=float(optimizer.param_groups[0]["lr"]),
                    train_loss=float(loss_sum) / max(seen, 1),
                    train_acc=float(correct) / max(seen, 1),
                    val_loss=val_loss,
                    val_acc=val_acc,
                    images_per_s=seen * info.world_size / max(train_s, 1e-9),
                    train_s=train_s,
                    eval_s=eval_s,
                    elapsed_s=clock.elapsed(),
                )
            )
            if max_steps is not None and step >= max_steps and not stop_reason:
                stop_reason = "max_steps"
            if total_steps is not None and step >= total_steps and not stop_reason:
                stop_reason = "epochs"
            write_checkpoint()
    finally:
        bar.close()

    history.stop_reason = stop_reason
    history.steps = step
    if stop_reason == "max_steps":
        # A piece of a longer run: leave the raw weights in place for the next piece.
        history.total_s = clock.elapsed()
        _hand_back(model)
        return history
    # The evaluation at the stop scored the EMA weights (or the raw ones without EMA).
    known = (
        {("ema" if ema is not None else "final"): last_eval[1]}
        if (last_eval is not None and last_eval[0] == step)
        else {}
    )
    _finish(
        model,
        rec,
        history,
        ema,
        swa,
        train_loader,
        best_state,
        best_acc,
        best_epoch,
        run_eval if val_loader is not None else None,
        tta,
        known,
    )
    history.total_s = clock.elapsed()
    _hand_back(model)
    return history


def _hand_back(model: nn.Module) -> None:
    # Weights go back to the standard layout: safetensors and most user code expect it.
    model.to(memory_format=torch.contiguous_format)
    model.eval()


def _finish(
    model: nn.Module,
    rec: Recipe,
    history: History,
    ema: AveragedModel | None,
    swa: AveragedModel | None,
    train_loader: Any,
    best_state: dict[str, torch.Tensor] | None,
    best_acc: float,
    best_epoch: int | None,
    run_eval: Callable[..., EvalResult] | None,
    tta: str | None,
    known: dict[str, float],
) -> None:
    """Pick the weights to return (best / final / averaged) and measure them with TTA."""
    candidates: dict[str, dict[str, torch.Tensor]] = {"final": _state_copy(model)}
    if swa is not None and int(swa.n_averaged) > 0:
        # SWA averages weights but not BatchNorm statistics: recompute them on training data.
        was = train_loader.state_dict()
        train_loader.load_state_dict({**was, "batch": 0})
        update_bn(train_loader, swa)
        train_loader.load_state_dict(was)
        candidates["swa"] = _state_copy(swa.module)
    if ema is not None:
        candidates["ema"] = _state_copy(ema.module)
    if run_eval is None:
        chosen = "swa" if "swa" in candidates else ("ema" if "ema" in candidates else "final")
        model.load_state_dict(candidates[chosen])
        history.selected = chosen
        return
    scores: dict[str, float] = {}
    probe = copy.deepcopy(model)
    for name, state in candidates.items():
        if name in known:
            scores[name] = known[name]
            continue
        probe.load_state_dict(state)
        scores[name] = run_eval(probe).accuracy
    history.final_acc = scores["final"]
    averaged = [scores[k] for k in ("swa", "ema") if k in scores]
    history.averaged_acc = max(averaged) if averaged else None
    if best_state is not None and best_acc > max(scores.values()) and rec.keep_best:
        candidates["best"], scores["best"] = best_state, best_acc
    chosen = (
        max(scores, key=lambda k: scores[k])
        if rec.keep_best
        else ("swa" if "swa" in scores else ("ema" if "ema" in scores else "final"))
    )
    model.load_state_dict(candidates[chosen])
    history.selected = chosen
    history.selected_acc = scores[chosen]
    history.best_acc = max(best_acc, *scores.values())
    history.best_epoch = (
        best_epoch if chosen == "best" else (history.records[-1].epoch if history.records else None)
    )
    history.tta_acc = run_eval(model, tta).accuracy if tta is not None else scores[chosen]
