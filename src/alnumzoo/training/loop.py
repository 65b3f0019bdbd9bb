"""The training loop of fit(): set up a run, then epochs of steps, evaluations and
checkpoints until a stop rule fires, then the selection of the weights handed back."""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from alnumzoo.data.base import SizedDataset
from alnumzoo.data.loaders import (
    DatasetLoader,
    make_loader,
    resolve_augment,
    validation_sample,
)
from alnumzoo.data.profiles import profile_of
from alnumzoo.inference._evaluate import EvalResult, evaluate, require_matching_classes
from alnumzoo.inference.device import autocast
from alnumzoo.inference.tta import tta_views
from alnumzoo.models.classifier import as_classifier
from alnumzoo.training.budget import BudgetClock, BudgetPlan, estimate_eval_s
from alnumzoo.training.checkpoint import (
    TrainState,
    check_training_checkpoint,
    data_fingerprint,
    load_checkpoint,
    save_checkpoint,
)
from alnumzoo.training.distributed import DistInfo, average_buffers, max_across_ranks
from alnumzoo.training.execution import choose_execution, forward_model
from alnumzoo.training.history import EpochRecord, History, StepRecord, StopReason
from alnumzoo.training.optim import EmaUpdate, build_optimizer, ema_model, swa_model
from alnumzoo.training.options import FitOptions
from alnumzoo.training.progress import TrainingBar
from alnumzoo.training.recipes import get_recipe
from alnumzoo.training.schedule import ProgressLR, lr_factor_fn
from alnumzoo.training.selection import select_weights, state_copy

__all__ = ["NonFiniteLossError", "Trainer", "TrainingInterrupted"]

#: Under a budget, ``eval_every="auto"`` evaluates mid-run only when a validation pass costs at
#: most this share of an epoch's training (CRNN on Fashion-MNIST, one CPU thread: a pass over
#: the 6,000 validation images was 10 s after a 240 s epoch, in a 300 s budget).
MID_RUN_EVAL_SHARE = 0.02
_CUDA_SYNC_EVERY = 8
_STEP_RECORDS_PER_EPOCH = 20


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; the last good checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C or SIGTERM after writing a checkpoint to resume from.

    Attributes:
        step: Optimizer steps done.
        checkpoint: The checkpoint written, if the run had one.
    """

    def __init__(self, reason: str, *, step: int, checkpoint: str | Path | None) -> None:
        hint = f"; resume with fit(..., resume={str(checkpoint)!r})" if checkpoint else ""
        super().__init__(f"{reason} at step {step}{hint}")
        self.step = step
        self.checkpoint = checkpoint


@dataclass
class _Tally:
    """Running sums of one epoch. A step only appends its loss and predictions (tensors stay
    on the device); [`flush`][alnumzoo.training.loop._Tally.flush] folds them into the sums on
    the host and checks the loss is finite, at step records and at the end of the epoch, so a
    step does no host work for them."""

    epoch: int
    start: float
    losses: list[torch.Tensor] = field(default_factory=list)
    predictions: list[torch.Tensor] = field(default_factory=list)
    targets: list[torch.Tensor] = field(default_factory=list)
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    logged: tuple[float, int] = (0.0, 0)  # loss sum and images at the last step record

    def add(self, loss: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> None:
        """Note one step's mean loss and its predictions."""
        self.losses.append(loss.detach())
        self.predictions.append(logits.detach().argmax(1))
        self.targets.append(targets)

    def flush(self, step: int) -> None:
        """Fold the steps noted since the last flush into the sums.

        Raises:
            NonFiniteLossError: one of those steps' loss was NaN or infinite (the message
                names the first such step, ``step`` being the last one noted).
        """
        if not self.losses:
            return
        sizes = torch.tensor([len(t) for t in self.targets], device=self.losses[0].device)
        losses = torch.stack(self.losses).float()
        finite = torch.isfinite(losses)
        total = float((losses * sizes).sum())
        if not math.isfinite(total):
            first = int((~finite).nonzero()[0, 0])
            bad = float(losses[first])
            raise NonFiniteLossError(
                f"training loss became {bad:.4g} at step {step - len(self.losses) + 1 + first} "
                f"(epoch {self.epoch})"
            )
        self.loss_sum += total
        self.correct += int((torch.cat(self.predictions) == torch.cat(self.targets)).sum())
        self.seen += int(sizes.sum())
        self.losses, self.predictions, self.targets = [], [], []


#: A fine-tune's peak learning rate, as a share of the recipe's (measured on the hub guide's
#: case: cifar_cnn.cifar10 on two of its classes went from 83.0% to 74.8% at the default rate
#: and to 85.4% at a tenth of it without warm-up).
FINE_TUNE_LR_FACTOR = 0.1


def _fine_tune(model: nn.Module, options: FitOptions) -> bool:
    if options.fine_tune != "auto":
        return bool(options.fine_tune)
    # from_pretrained leaves a load report; a model built by create_model has none.
    pretrained = getattr(model, "load_report", None) is not None
    return pretrained and options.recipe == "default" and options.lr is None


class Trainer:
    """One process's run: set-up in ``__init__``, then ``run`` trains epoch by epoch until
    the plan, a target, ``max_steps`` or a signal stops it."""

    def __init__(
        self,
        model: nn.Module,
        train: SizedDataset[Any],
        val: SizedDataset[Any] | None,
        options: FitOptions,
        device: torch.device,
        info: DistInfo,
        stop_flag: list[str],
    ) -> None:
        self.train_data, self.val_data, self.options = train, val, options
        self.device, self.info, self.stop_flag = device, info, stop_flag
        described = as_classifier(model)
        arch = described.arch if described is not None else type(model).__name__.lower()
        self.num_classes = described.num_classes if described is not None else None
        rec = get_recipe(options.recipe, arch)
        self.fine_tune = _fine_tune(model, options)
        self.stopping = False
        if self.fine_tune:
            rec = rec.with_overrides(
                name=f"{rec.name}+fine-tune", lr=rec.lr * FINE_TUNE_LR_FACTOR, warmup=0.0
            )
        self.recipe = rec
        if options.target is not None and val is None:
            raise ValueError("target needs validation data (val=...)")
        if len(train) == 0:
            raise ValueError("the training set is empty")
        if val is not None and len(val) == 0:
            raise ValueError("the validation set is empty; pass val=None to train without one")
        require_matching_classes(model, getattr(train, "labels", None), "training")
        budget_s = options.budget_s
        epochs = (
            options.epochs if options.epochs is not None else (None if budget_s else rec.epochs)
        )
        bs = options.batch_size or rec.batch_size
        # A different batch size keeps the recipe's rate per image (the linear scaling rule).
        base_lr = options.lr if options.lr is not None else rec.lr * bs / rec.batch_size
        labels = getattr(train, "labels", None) or (described.labels if described else None)
        profile = profile_of(model, getattr(train, "labels", None))
        self.tta = profile.tta if rec.tta == "auto" else rec.tta
        self.passes = tta_views(self.tta) + 2  # final evaluation: raw, averaged, then TTA
        self.final_tta = self.tta
        resume_from = options.resume_from
        saved = load_checkpoint(resume_from, map_location=device) if resume_from else None
        if saved is not None and resume_from:
            check_training_checkpoint(saved, resume_from)
        # The clock starts before any set-up work (the CPU probe included): a budget is wall time.
        clock = BudgetClock(device, already_spent=float(saved["spent_s"]) if saved else 0.0)

        torch.manual_seed(options.seed)
        model.to(device)
        self.channels_last, self.cast, probe_rates = choose_execution(
            model, train, bs, epochs, options, device, info, saved
        )
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        self.augment = (
            profile.augment if rec.augment == "auto" else resolve_augment(rec.augment, labels)
        )
        train_loader = self._loader(train, bs, training=True)
        self.val_loader = self._loader(val, options.eval_batch_size) if val is not None else None
        self.eval_loader = self.val_loader  # the final evaluation may score a sample
        if len(train_loader) == 0:
            raise ValueError("the training set is empty")
        self.log_every = max(1, len(train_loader) // _STEP_RECORDS_PER_EPOCH)
        total_steps = epochs * len(train_loader) if epochs is not None else None

        optimizer = build_optimizer(model, rec, base_lr)
        factor = lr_factor_fn(
            rec.schedule, warmup=rec.warmup, total_epochs=float(epochs or rec.epochs),
            step_epochs=rec.step_epochs, step_gamma=rec.step_gamma, phases=rec.phases,
            base_lr=base_lr,
        )  # fmt: skip
        precision = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.cast]
        history = History(
            budget_s=budget_s, device=str(device), recipe=rec.name, precision=precision,
            channels_last=self.channels_last,
            cpu_probe={k: round(v, 1) for k, v in probe_rates.items()},
            world_size=info.world_size,
        )  # fmt: skip
        self.state = TrainState(
            arch=arch,
            recipe=rec,
            run={
                "batch_size": bs,
                "lr": base_lr,
                "train_size": len(train),
                "train_fingerprint": data_fingerprint(train),
            },
            execution={"channels_last": self.channels_last, "precision": precision},
            model=model,
            optimizer=optimizer,
            scheduler=ProgressLR(optimizer, factor),
            scaler=torch.amp.GradScaler("cuda", enabled=self.cast == torch.float16),
            loader=train_loader,
            history=history,
            ema=ema_model(model, rec),
            swa=swa_model(model, rec),
        )
        if saved is not None and resume_from:
            self.state.check_resumable(saved, resume_from, anyway=options.resume_anyway)
            self.state.load_state_dict(saved, device)
            # Resumed anyway with another rate: the schedule goes on at the new one (the
            # checkpoint's scheduler state holds the old base rate).
            self.state.scheduler.rebase(base_lr)
        elif self.fine_tune and self.val_loader is not None:
            # The starting weights are a candidate like any epoch's: a fine-tune that only
            # makes them worse hands them back unchanged.
            start = self._evaluate(model)
            self.state.best_acc, self.state.best_epoch = start.accuracy, 0
            self.state.best_state = state_copy(model)
            history.start_acc = start.accuracy
        history.fine_tuned = self.fine_tune
        self.ema_update = (
            EmaUpdate(self.state.ema, model, rec.ema_decay)
            if self.state.ema is not None and rec.ema_decay
            else None
        )
        self.forward_model = forward_model(model, options, device, info)
        self.plan = BudgetPlan(
            clock, budget_s, reserve=options.reserve, total_steps=total_steps,
            agree=lambda p: max_across_ranks(p, info, device),
        )  # fmt: skip
        if budget_s is not None and self.val_loader is not None:
            pass_s = estimate_eval_s(model, self.val_loader, self.cast)
            self.plan.expect_evaluation(pass_s, self.passes)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=rec.label_smoothing)
        self.stopping = False
        self.last_sync = self.state.step
        self.last_eval: tuple[int, float] | None = None

    def run(self) -> History:
        """Train until a stop rule fires, then hand back the selected weights."""
        state = self.state
        bar = TrainingBar(
            f"{state.arch} ({self.recipe.name})",
            enabled=self.options.progress and self.info.is_main,
        )
        stop_reason: StopReason | None = None
        p = self.plan.progress(state.step) if state.step else 0.0
        try:
            while stop_reason is None:
                stop_reason, p, tally = self._train_epoch(bar, p)
                stop_reason = self._end_epoch(stop_reason, p, tally)
        finally:
            bar.close()
        assert stop_reason is not None
        state.history.stop_reason = stop_reason
        state.history.steps = state.step
        if stop_reason != "max_steps":  # a max_steps piece keeps the raw weights for the next
            # The evaluation at the stop scored the EMA weights (or the raw ones without EMA).
            scored = "ema" if state.ema is not None else "final"
            last = self.last_eval
            known = {scored: last[1]} if last is not None and last[0] == state.step else {}
            select_weights(
                state,
                keep_best=self.recipe.keep_best,
                run_eval=self._evaluate if self.val_loader is not None else None,
                tta=self.final_tta,
                known=known,
            )
            if self.final_tta is None and self.tta is not None:
                state.history.tta_acc = None  # not scored: the budget had no room for it
        state.history.total_s = self.plan.clock.elapsed()
        # Weights go back to the standard layout: safetensors and most user code expect it.
        state.model.to(memory_format=torch.contiguous_format)
        state.model.eval()
        return state.history

    def _train_epoch(self, bar: TrainingBar, p: float) -> tuple[StopReason | None, float, _Tally]:
        state, rec, plan = self.state, self.recipe, self.plan
        model, optimizer, scaler = state.model, state.optimizer, state.scaler
        model.train()
        tally = _Tally(epoch=state.loader.epoch + 1, start=plan.clock.elapsed())
        precision = autocast(self.device, self.cast) if self.cast is not None else nullcontext()
        scaled = scaler.is_enabled()
        syncing = self.device.type == "cuda"
        show_every = max(1, self.log_every // 4)
        for x, y in state.loader:
            # The step: forward, loss, backward, optimizer, weight average, schedule.
            with precision:
                logits = self.forward_model(x)
                loss = self.criterion(logits.float(), y)
            if scaled:
                scaler.scale(loss).backward()
                if rec.grad_clip is not None:
                    scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(model.parameters(), rec.grad_clip)
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                if rec.grad_clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), rec.grad_clip, foreach=True)
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if self.ema_update is not None:
                self.ema_update()
            state.step += 1
            tally.add(loss, logits, y)
            # On CUDA the clock waits for the device only every few steps: a wait per step
            # would stall the launch queue, which is most of the time for models this small.
            sync = not syncing or state.step - self.last_sync >= _CUDA_SYNC_EVERY
            if sync:
                self.last_sync = state.step
            p = plan.progress(state.step, sync)
            state.scheduler.advance(p)
            # The bookkeeping below reads the device (a wait on CUDA): every few steps only.
            if state.step % self.log_every == 0:
                self._record_step(tally)
            elif bar.enabled and state.step % show_every == 0:
                self._flush(tally)
                self._show(bar, p, tally)
            if self.stop_flag:
                break  # a signal: the epoch's end writes a checkpoint and raises
            reason = self._stop_reason(p)
            if reason is not None:
                return reason, p, tally
        return None, p, tally

    def _stop_reason(self, p: float, val_acc: float | None = None) -> StopReason | None:
        """The one stop rule, asked after every step and again after an epoch's evaluation:
        ``"target"`` (validation accuracy reached it), ``"budget"`` or ``"epochs"`` (progress
        reached 1 by the clock or by the step count), ``"max_steps"``; ``None`` to go on.
        Signals are not a stop reason: they end the run with ``TrainingInterrupted``."""
        options, plan, step = self.options, self.plan, self.state.step
        if options.target is not None and val_acc is not None and val_acc >= options.target:
            return "target"
        if p >= 1.0:
            steps_left = plan.total_steps is None or step < plan.total_steps
            return "budget" if plan.budget_s and steps_left else "epochs"
        if options.max_steps is not None and step >= options.max_steps:
            return "max_steps"
        return None

    def _end_epoch(
        self, stop_reason: StopReason | None, p: float, tally: _Tally
    ) -> StopReason | None:
        state, options, rec = self.state, self.options, self.recipe
        self._flush(tally)
        if self.stop_flag:
            self._write_checkpoint()
            raise TrainingInterrupted(
                f"training stopped by {self.stop_flag[0]}",
                step=state.step,
                checkpoint=options.checkpoint,
            )
        if state.swa is not None and rec.swa_start is not None and p >= rec.swa_start:
            state.swa.update_parameters(state.model)
        for synced in (state.model, state.ema.module if state.ema is not None else None):
            if synced is not None:
                average_buffers(synced, self.info)
        epoch_done = state.loader.state_dict()["batch"] == 0
        train_s = self.plan.clock.elapsed() - tally.start
        val_loss = val_acc = None
        eval_s = 0.0
        if self._evaluate_now(tally.epoch, stop_reason, epoch_done=epoch_done, train_s=train_s):
            val_loss, val_acc, eval_s = self._validate(tally.epoch, final=bool(stop_reason))
        state.history.records.append(
            EpochRecord(
                epoch=tally.epoch,
                step=state.step,
                lr=float(state.optimizer.param_groups[0]["lr"]),
                train_loss=tally.loss_sum / max(tally.seen, 1),
                train_acc=tally.correct / max(tally.seen, 1),
                val_loss=val_loss,
                val_acc=val_acc,
                images_per_s=tally.seen * self.info.world_size / max(train_s, 1e-9),
                train_s=train_s,
                eval_s=eval_s,
                elapsed_s=self.plan.clock.elapsed(),
            )
        )
        if stop_reason is None:
            stop_reason = self._stop_reason(p, val_acc)
        self._write_checkpoint()
        return stop_reason

    def _evaluate_now(
        self, epoch: int, stop_reason: StopReason | None, *, epoch_done: bool, train_s: float
    ) -> bool:
        """Whether this epoch's end evaluates: always at the stop and after a partial epoch
        (a ``max_steps`` piece), every ``eval_every`` epochs when it is a number. ``"auto"``
        evaluates every epoch, except under a budget without a ``target``: there the schedule
        ends at zero, so the last weights are nearly always the best and a mid-run evaluation
        buys only the curve; it is made when a pass costs at most `MID_RUN_EVAL_SHARE` of the
        epoch's training time."""
        if self.val_loader is None:
            return False
        every = self.options.eval_every
        if stop_reason is not None or not epoch_done:
            return True
        if isinstance(every, int):
            return epoch % every == 0
        if self.plan.budget_s is None or self.options.target is not None:
            return True
        return self.plan.eval_pass_s <= MID_RUN_EVAL_SHARE * train_s

    def _validate(self, epoch: int, *, final: bool) -> tuple[float, float, float]:
        """Score the averaged (or raw) weights: (loss, accuracy, seconds)."""
        state, clock = self.state, self.plan.clock
        if final:
            self.stopping = True
            self.eval_loader = self._final_eval_loader()
        scored = state.ema.module if state.ema is not None else state.model
        t0 = clock.elapsed()
        result = self._evaluate(scored)
        eval_s = clock.elapsed() - t0
        if self.eval_loader is self.val_loader:
            self.plan.observe_evaluation(eval_s)
        self.last_eval = (state.step, result.accuracy)
        if result.accuracy > state.best_acc:
            state.best_acc, state.best_epoch = result.accuracy, epoch
            state.best_state = state_copy(scored)
        return result.loss, result.accuracy, eval_s

    def _evaluate(self, module: nn.Module, mode: str | None = None) -> EvalResult:
        assert self.eval_loader is not None
        label = "final evaluation" if self.stopping else "validation"
        return evaluate(
            module,
            self.eval_loader,
            tta=mode,
            device=self.device,
            autocast_dtype=self.cast,
            progress=label if self.options.progress and self.info.is_main else False,
        )

    def _final_eval_loader(self) -> Any:
        """All the validation data when its evaluation fits in what is left of the budget,
        else a class-balanced sample that does, so a budget holds with its final evaluation.
        A sampled evaluation only picks the weights: the TTA score (a report, which does not
        change what is returned) is left out, and its passes go to a larger sample."""
        val = self.val_data
        if val is None or self.val_loader is None:
            return self.val_loader
        size = self.plan.affordable_final_images(len(val), self.passes)
        if size is None:
            return self.val_loader
        self.final_tta = None
        size = self.plan.affordable_final_images(len(val), 2) or len(val)
        sample = validation_sample(val, size)
        self.state.history.final_eval_images = len(sample)
        return self._loader(sample, self.options.eval_batch_size)

    def _loader(self, data: SizedDataset[Any], batch_size: int, *, training: bool = False) -> Any:
        loader = make_loader(
            data,
            batch_size,
            train=training,
            augment=self.augment if training else None,
            augment_from_epoch=self.recipe.augment_from_epoch,
            device=self.device,
            seed=self.options.seed,
            channels_last=self.channels_last,
            rank=self.info.rank,
            world_size=self.info.world_size,
            workers=self.options.workers,
        )
        if isinstance(loader, DatasetLoader) and loader.num_classes is None:
            loader.num_classes = self.num_classes  # labels checked against the model's outputs
        return loader

    def _record_step(self, tally: _Tally) -> None:
        self._flush(tally)
        self.state.history.step_records.append(
            StepRecord(
                step=self.state.step,
                elapsed_s=self.plan.clock.elapsed(False),
                train_loss=(tally.loss_sum - tally.logged[0])
                / max(tally.seen - tally.logged[1], 1),
                lr=float(self.state.optimizer.param_groups[0]["lr"]),
            )
        )
        tally.logged = (tally.loss_sum, tally.seen)

    def _flush(self, tally: _Tally) -> None:
        try:
            tally.flush(self.state.step)
        except NonFiniteLossError as error:
            checkpoint = self.options.checkpoint
            raise NonFiniteLossError(
                f"{error}; lower the learning rate or check the data. "
                + (
                    f"The last good checkpoint is {checkpoint}."
                    if checkpoint is not None
                    else "No checkpoint was being written."
                )
            ) from None

    def _show(self, bar: TrainingBar, p: float, tally: _Tally) -> None:
        seconds = max(self.plan.clock.elapsed(False) - tally.start, 1e-9)
        bar.show(
            p,
            epoch=tally.epoch,
            loss=tally.loss_sum / max(tally.seen, 1),
            accuracy=tally.correct / max(tally.seen, 1),
            images_per_s=tally.seen * self.info.world_size / seconds,
            seconds_left=self.plan.seconds_left(),
        )

    def _write_checkpoint(self) -> None:
        if self.options.checkpoint is not None and self.info.is_main:
            state = self.state.state_dict(spent_s=self.plan.clock.elapsed(), device=self.device)
            save_checkpoint(self.options.checkpoint, state)
