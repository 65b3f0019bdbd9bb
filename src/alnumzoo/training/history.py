"""What a training run did, epoch by epoch, and how it ended."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from alnumzoo._atomic import atomic_write
from alnumzoo.inference.plotting import pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["EpochRecord", "History", "StepRecord", "StopReason"]

#: Why a run stopped (decided in one place, ``alnumzoo.training.rules.stop_rule``).
StopReason = Literal["budget", "epochs", "target", "max_steps"]

# One curve: x values, y values, matplotlib style, label.
_Series = tuple[list[int], list[Any], str, str]
# Below this many evaluated epochs, History.plot draws curves over steps instead.
_FEW_EPOCHS = 5


@dataclass
class EpochRecord:
    """One evaluated epoch (the last one may be partial when the budget ends mid-epoch).

    Attributes:
        epoch: 1-based epoch number.
        step: Optimizer steps done at the end of it.
        lr: Learning rate at its last step.
        train_loss: Mean training loss over its steps.
        train_acc: Training accuracy (on augmented batches).
        val_loss: Validation loss of the evaluated weights (EMA weights when the recipe keeps
            an EMA), or ``None`` without validation data.
        val_acc: Validation accuracy of the same weights.
        images_per_s: Training throughput of the epoch.
        train_s: Seconds spent training in it.
        eval_s: Seconds spent evaluating after it.
        elapsed_s: Seconds spent on the run so far (budget clock).
    """

    epoch: int
    step: int
    lr: float
    train_loss: float
    train_acc: float
    val_loss: float | None
    val_acc: float | None
    images_per_s: float
    train_s: float
    eval_s: float
    elapsed_s: float


@dataclass
class StepRecord:
    """Training progress between evaluations, logged about 20 times an epoch, so short runs
    (one epoch or less) still have curves.

    Attributes:
        step: Optimizer steps done.
        elapsed_s: Seconds spent on the run so far (budget clock).
        train_loss: Mean training loss since the previous record.
        lr: Learning rate at this step.
    """

    step: int
    elapsed_s: float
    train_loss: float
    lr: float


@dataclass
class History:
    """The result of [`alnumzoo.fit`][alnumzoo.training._fit.fit].

    Attributes:
        records: One [`EpochRecord`][alnumzoo.training.history.EpochRecord] per evaluated epoch.
        step_records: [`StepRecord`][alnumzoo.training.history.StepRecord] s logged within epochs.
        stop_reason: ``"budget"``, ``"epochs"``, ``"target"`` or ``"max_steps"``.
        selected: Which weights the model holds now: ``"best"`` (best validation epoch),
            ``"final"``, ``"ema"`` or ``"swa"``.
        best_acc: Best validation accuracy seen during training.
        best_epoch: Epoch of ``best_acc``.
        final_acc: Validation accuracy of the last raw weights.
        averaged_acc: Validation accuracy of the EMA/SWA weights at the end, if any.
        tta_acc: Validation accuracy of the returned weights with test-time augmentation
            (without, when the run has none: ``recipe_detail["tta"]`` is ``None``).
        selected_acc: Validation accuracy of the returned weights without TTA.
        budget_s: The budget in seconds, if one was given.
        total_s: Seconds spent, final evaluation and checkpoint included.
        steps: Optimizer steps done.
        device: Device trained on.
        recipe: Recipe name.
        recipe_detail: The recipe's values as trained, the learning rate and batch size
            actually used included (a fine-tune's lowered rate, a batch size's scaled one).
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"``.
        augment: The augmentation preset the run trained with (``None``: none, e.g. a run too
            short for the recipe's ``augment_min_epochs``).
        final_eval_images: Validation images the final evaluation scored when the budget
            could not afford the whole set (``None``: all of them).
        channels_last: Whether training ran in channels-last memory format.
        cpu_probe: Training images/s the CPU probe measured per candidate mode (empty when
            no probe ran; see
            [`probe_cpu_execution`][alnumzoo.training.cpu_speed.probe_cpu_execution]).
        world_size: Processes that trained together.
        fine_tuned: The run started from trained weights and used the fine-tuning rates
            (see ``fit(fine_tune=...)``).
        start_acc: Validation accuracy of the starting weights of a fine-tuning run; they
            compete with the trained ones, so a fine-tune never ends below it
            (``selected == "best"`` with ``best_epoch == 0`` means they were kept).
    """

    records: list[EpochRecord] = field(default_factory=list)
    step_records: list[StepRecord] = field(default_factory=list)
    stop_reason: StopReason | Literal[""] = ""
    selected: str = "final"
    best_acc: float | None = None
    best_epoch: int | None = None
    final_acc: float | None = None
    averaged_acc: float | None = None
    tta_acc: float | None = None
    selected_acc: float | None = None
    budget_s: float | None = None
    total_s: float = 0.0
    steps: int = 0
    device: str = "cpu"
    recipe: str = ""
    recipe_detail: dict[str, Any] = field(default_factory=dict)
    precision: str = "fp32"
    augment: str | None = None
    channels_last: bool = False
    final_eval_images: int | None = None
    cpu_probe: dict[str, float] = field(default_factory=dict)
    world_size: int = 1
    fine_tuned: bool = False
    start_acc: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (numbers, strings, lists), e.g. for JSON or a checkpoint."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Rebuild a history from [`to_dict`][alnumzoo.training.history.History.to_dict] output."""
        data = dict(data)
        records = [EpochRecord(**r) for r in data.pop("records", [])]
        steps = [StepRecord(**r) for r in data.pop("step_records", [])]
        known = {f.name for f in fields(cls)}
        return cls(
            records=records, step_records=steps, **{k: v for k, v in data.items() if k in known}
        )

    def to_csv(self, path: str | Path) -> Path:
        """Write one row per epoch (the [`EpochRecord`][alnumzoo.training.history.EpochRecord]
        fields) to ``path``, atomically."""
        path = Path(path)
        names = [f.name for f in fields(EpochRecord)]

        def write(tmp: Path) -> None:
            with open(tmp, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=names)
                writer.writeheader()
                for record in self.records:
                    writer.writerow(asdict(record))

        atomic_write(path, write)
        return path

    def plot(self, path: str | Path | None = None, *, title: str = "") -> Figure:
        """Loss and accuracy curves (and the learning rate) per epoch.

        Needs matplotlib (``pip install "alnumzoo[plot]"``). Saves to ``path`` when given.

        Raises:
            ImportError: matplotlib is not installed; the message says how to get it.
        """
        plt = pyplot("History.plot", headless=path is not None)
        if len(self.records) < _FEW_EPOCHS and self.step_records:
            return self._plot_steps(plt, path, title)
        epochs = [r.epoch for r in self.records]
        loss: list[_Series] = [(epochs, [r.train_loss for r in self.records], "o-", "train")]
        if any(r.val_loss is not None for r in self.records):
            loss.append((epochs, [r.val_loss for r in self.records], "o-", "validation"))
        acc: list[_Series] = [(epochs, [100 * r.train_acc for r in self.records], "o-", "train")]
        if any(r.val_acc is not None for r in self.records):
            val = [None if r.val_acc is None else 100 * r.val_acc for r in self.records]
            acc.append((epochs, val, "o-", "validation"))
        lr: _Series = (epochs, [r.lr for r in self.records], "o-", "learning rate (end of epoch)")
        return self._figure(plt, "epoch", loss, acc, lr, path, title)

    def _plot_steps(self, plt: Any, path: str | Path | None, title: str) -> Figure:
        """Curves over steps, for runs too short for per-epoch curves."""
        steps = [r.step for r in self.step_records]
        loss: list[_Series] = [(steps, [r.train_loss for r in self.step_records], "-", "train")]
        evaluated = [r for r in self.records if r.val_acc is not None]
        acc: list[_Series] = [
            ([r.step for r in self.records], [100 * r.train_acc for r in self.records], "o",
             "train (epoch)"),
        ]  # fmt: skip
        if evaluated:
            acc.append(([r.step for r in evaluated], [100 * (r.val_acc or 0) for r in evaluated],
                        "s", "validation"))  # fmt: skip
        lr: _Series = (steps, [r.lr for r in self.step_records], "-", "learning rate")
        return self._figure(plt, "step", loss, acc, lr, path, title)

    def _figure(
        self,
        plt: Any,
        xlabel: str,
        loss: list[_Series],
        acc: list[_Series],
        lr: _Series,
        path: str | Path | None,
        title: str,
    ) -> Figure:
        """Loss, accuracy and learning-rate panels side by side, saved to ``path``."""
        fig, (ax_loss, ax_acc, ax_lr) = plt.subplots(1, 3, figsize=(12, 3.4))
        for ax, series, name in ((ax_loss, loss, "loss"), (ax_acc, acc, "accuracy (%)")):
            for x, y, style, label in series:
                ax.plot(x, y, style, label=label)
            ax.set(title=name, xlabel=xlabel)
            ax.legend()
        ax_lr.plot(lr[0], lr[1], lr[2])
        ax_lr.set(title=lr[3], xlabel=xlabel)
        return self._finish_figure(fig, path, title)

    def _finish_figure(self, fig: Any, path: str | Path | None, title: str) -> Figure:
        stop = f", stopped by {self.stop_reason}" if self.stop_reason else ""
        fig.suptitle(title or f"{self.recipe} recipe on {self.device}{stop}")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=110)
        figure: Figure = fig  # pyplot comes in untyped through the optional import
        return figure
