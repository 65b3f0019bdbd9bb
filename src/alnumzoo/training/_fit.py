"""fit(): train a model for a wall-clock budget or a number of epochs, resumably.

[`fit`][alnumzoo.training._fit.fit] turns its arguments into
[`FitOptions`][alnumzoo.training.options.FitOptions] and runs them here or in spawned processes;
the run itself is [`Trainer`][alnumzoo.training.loop.Trainer]'s loop.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from alnumzoo.data.base import SizedDataset
from alnumzoo.inference.device import resolve_device
from alnumzoo.training.distributed import init_distributed, launch_local
from alnumzoo.training.history import History
from alnumzoo.training.loop import Trainer
from alnumzoo.training.options import FitOptions
from alnumzoo.training.provenance import record_training
from alnumzoo.training.recipes import Recipe
from alnumzoo.training.signals import stop_signals

__all__ = ["fit", "run_fit"]


def fit(
    model: nn.Module,
    train: SizedDataset[Any],
    val: SizedDataset[Any] | None = None,
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
    eval_every: int | str = "auto",
    reserve: float | None = None,
    eval_batch_size: int = 512,
    workers: int = 0,
    devices: int | None = None,
    resume_anyway: bool = False,
    fine_tune: bool | str = "auto",
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
        eval_every: Evaluate every this many epochs (and always at the end). ``"auto"``:
            every epoch, except under a budget without ``target``, where a mid-run
            evaluation is made only when it costs at most 2% of the epoch (the schedule ends
            at zero, so the last weights are nearly always the best).
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
        fine_tune: Train as a fine-tune: the recipe's peak learning rate times
            `FINE_TUNE_LR_FACTOR` and no warm-up, and the starting weights compete with the
            trained ones on validation, so the run never ends below where it started.
            ``"auto"`` does so when the model came from ``from_pretrained`` (trained weights,
            possibly with a new head) and neither ``recipe`` nor ``lr`` was chosen; the
            history records it (``fine_tuned``, ``start_acc``).

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
    options = FitOptions.from_arguments(locals())
    spawn = options.devices is not None and options.devices > 1
    if spawn and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        history = launch_local(run_fit, model, train, val, options)
    else:
        history = run_fit(model, train, val, options)
    record_training(model, history)
    return history


def run_fit(
    model: nn.Module, train: SizedDataset[Any], val: SizedDataset[Any] | None, options: FitOptions
) -> History:
    """[`fit`][alnumzoo.training._fit.fit] with its options made: this process's part of the
    run (the function [`launch_local`][alnumzoo.training.distributed.launch_local] starts in every
    process it spawns)."""
    device = resolve_device(options.device)
    info = init_distributed(device)
    if device.type == "cuda" and info.world_size > 1:
        device = torch.device("cuda", info.local_rank)
    try:
        # Signals are caught from the start: one arriving during set-up (CPU probe, resume)
        # still ends in a checkpoint and TrainingInterrupted at the first step.
        with stop_signals() as stop_flag:
            history = Trainer(model, train, val, options, device, info, stop_flag).run()
        if info.owns_group:
            # Every rank finishes its collectives before any tears the group down: a rank
            # that destroys its gloo group while a peer still talks to it can abort the peer
            # ("terminate called without an active exception": once in CI, 2026-12-03).
            torch.distributed.barrier()
        return history
    finally:
        if info.owns_group:
            torch.distributed.destroy_process_group()
