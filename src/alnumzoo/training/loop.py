"""The training loop of fit(): set up a run, then epochs of steps, evaluations and
checkpoints until a stop rule fires, then the selection of the weights handed back."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from alnumzoo.data.base import SizedDataset
from alnumzoo.data.loaders import DatasetLoader, make_loader, resolve_augment, validation_sample
from alnumzoo.data.profiles import profile_of
from alnumzoo.inference._evaluate import EvalResult, evaluate, require_matching_classes
from alnumzoo.inference.device import autocast
from alnumzoo.inference.tta import tta_views
from alnumzoo.models.classifier import as_classifier
from alnumzoo.training.budget import BudgetClock, BudgetPlan, estimate_eval_s
from alnumzoo.training.checkpoint import (
    TrainState,
    data_fingerprint,
    load_training_checkpoint,
    save_checkpoint,
)
from alnumzoo.training.cpu_speed import CpuExecution
from alnumzoo.training.distributed import DistInfo, average_buffers, max_across_ranks
from alnumzoo.training.execution import choose_execution, forward_model
from alnumzoo.training.fine_tune import fine_tune_recipe, is_fine_tune
from alnumzoo.training.history import History, StopReason
from alnumzoo.training.optim import EmaUpdate, build_optimizer, ema_model, swa_model
from alnumzoo.training.options import FitOptions
from alnumzoo.training.progress import TrainingBar
from alnumzoo.training.recipes import get_recipe, recipe_values
from alnumzoo.training.rules import (
    augment_choice,
    evaluates_now,
    planned_epochs,
    stop_rule,
    weights_tta,
)
from alnumzoo.training.schedule import ProgressLR, lr_factor_fn
from alnumzoo.training.selection import select_weights, state_copy
from alnumzoo.training.signals import TrainingInterrupted
from alnumzoo.training.tally import EpochTally

__all__ = ["Trainer"]

_CUDA_SYNC_EVERY = 8
_STEP_RECORDS_PER_EPOCH = 20


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
        self.fine_tune = is_fine_tune(model, options)
        self.stopping = False  # set at the final evaluation
        if self.fine_tune:
            rec = fine_tune_recipe(rec)
        self.recipe = rec
        options.check_data(train, val)
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
        resume_from = options.resume_from
        saved = load_training_checkpoint(resume_from, device) if resume_from else None
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
        rate = probe_rates.get(CpuExecution(self.channels_last, self.cast).name)
        preset = profile.augment if rec.augment == "auto" else resolve_augment(rec.augment, labels)
        planned = planned_epochs(epochs, budget_s, rate, len(train))  # passes over the data
        self.augment = augment_choice(rec, preset, planned, saved["history"] if saved else None)
        self.tta = profile.tta if rec.tta == "auto" else rec.tta
        self.passes = tta_views(self.tta) + 2  # final evaluation: raw, averaged, then TTA
        self.final_tta = self.tta
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
            recipe_detail={**recipe_values(rec), "lr": base_lr, "batch_size": bs},
            channels_last=self.channels_last, world_size=info.world_size, augment=self.augment,
            cpu_probe={k: round(v, 1) for k, v in probe_rates.items()},
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
        ema = self.state.ema
        self.ema_update = EmaUpdate(ema, model, rec.ema_decay) if ema and rec.ema_decay else None
        self.forward_model = forward_model(model, options, device, info)
        self.plan = BudgetPlan(
            clock, budget_s, reserve=options.reserve, total_steps=total_steps,
            agree=lambda p: max_across_ranks(p, info, device),
        )  # fmt: skip
        if budget_s is not None and self.val_loader is not None:
            pass_s = estimate_eval_s(model, self.val_loader, self.cast)
            self.plan.expect_evaluation(pass_s, self.passes)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=rec.label_smoothing)
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
        self.tta = weights_tta(self.recipe, self.tta, self.augment, state.loader.state_dict())
        self.final_tta = self.tta if self.final_tta else None
        state.history.recipe_detail["tta"] = self.tta  # what tta="auto" means for the weights
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

    def _train_epoch(
        self, bar: TrainingBar, p: float
    ) -> tuple[StopReason | None, float, EpochTally]:
        state, rec, plan = self.state, self.recipe, self.plan
        model, optimizer, scaler = state.model, state.optimizer, state.scaler
        model.train()
        tally = EpochTally(epoch=state.loader.epoch + 1, start=plan.clock.elapsed())
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
            reason = stop_rule(self.options, self.plan, state.step, p)
            if reason is not None:
                return reason, p, tally
        return None, p, tally

    def _end_epoch(
        self, stop_reason: StopReason | None, p: float, tally: EpochTally
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
        val: tuple[float, float] | None = None
        eval_s = 0.0
        if self.val_loader is not None and evaluates_now(
            self.options, self.plan, tally.epoch, stopping=stop_reason is not None,
            epoch_done=epoch_done, train_s=train_s,
        ):  # fmt: skip
            val_loss, val_acc, eval_s = self._validate(tally.epoch, final=bool(stop_reason))
            val = (val_loss, val_acc)
        record = tally.epoch_record(
            state.step, float(state.optimizer.param_groups[0]["lr"]), train_s=train_s,
            eval_s=eval_s, elapsed_s=self.plan.clock.elapsed(), val=val,
            world_size=self.info.world_size,
        )  # fmt: skip
        state.history.records.append(record)
        if stop_reason is None:
            stop_reason = stop_rule(options, self.plan, state.step, p, record.val_acc)
        self._write_checkpoint()
        return stop_reason

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
        """All the validation data when its evaluation fits in what is left of the budget, else
        a class-balanced sample that does; a sample only picks the weights, so the TTA score (a
        report) is left out and its passes go to a larger sample."""
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

    def _record_step(self, tally: EpochTally) -> None:
        self._flush(tally)
        lr = float(self.state.optimizer.param_groups[0]["lr"])
        record = tally.step_record(self.state.step, self.plan.clock.elapsed(False), lr)
        self.state.history.step_records.append(record)

    def _flush(self, tally: EpochTally) -> None:
        tally.flush(self.state.step, self.options.checkpoint)

    def _show(self, bar: TrainingBar, p: float, tally: EpochTally) -> None:
        seconds = max(self.plan.clock.elapsed(False) - tally.start, 1e-9)
        bar.show(
            p,
            epoch=tally.epoch,
            loss=tally.mean_loss,
            accuracy=tally.accuracy,
            images_per_s=tally.seen * self.info.world_size / seconds,
            seconds_left=self.plan.seconds_left(),
        )

    def _write_checkpoint(self) -> None:
        if self.options.checkpoint is not None and self.info.is_main:
            state = self.state.state_dict(spent_s=self.plan.clock.elapsed(), device=self.device)
            save_checkpoint(self.options.checkpoint, state)
