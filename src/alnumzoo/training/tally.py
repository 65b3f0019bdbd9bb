"""What an epoch's steps add up to: the running loss and accuracy, read on the host only at
step records and at the end of the epoch."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from alnumzoo.training.history import EpochRecord, StepRecord

__all__ = ["EpochTally", "NonFiniteLossError"]


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class EpochTally:
    """Running sums of one epoch. A step only appends its loss and predictions (tensors stay
    on the device); [`flush`][alnumzoo.training.tally.EpochTally.flush] folds them into the sums on
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

    def flush(self, step: int, checkpoint: str | Path | None = None) -> None:
        """Fold the steps noted since the last flush into the sums.

        Raises:
            NonFiniteLossError: one of those steps' loss was NaN or infinite (the message
                names the first such step, ``step`` being the last one noted, and the last
                good ``checkpoint``).
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
            kept = (
                f"The last good checkpoint is {checkpoint}."
                if checkpoint is not None
                else "No checkpoint was being written."
            )
            raise NonFiniteLossError(
                f"training loss became {bad:.4g} at step {step - len(self.losses) + 1 + first} "
                f"(epoch {self.epoch}); lower the learning rate or check the data. {kept}"
            )
        self.loss_sum += total
        self.correct += int((torch.cat(self.predictions) == torch.cat(self.targets)).sum())
        self.seen += int(sizes.sum())
        self.losses, self.predictions, self.targets = [], [], []

    @property
    def mean_loss(self) -> float:
        """Mean training loss of the images flushed so far."""
        return self.loss_sum / max(self.seen, 1)

    @property
    def accuracy(self) -> float:
        """Training accuracy of the images flushed so far."""
        return self.correct / max(self.seen, 1)

    def step_record(self, step: int, elapsed_s: float, lr: float) -> StepRecord:
        """The mean loss since the previous step record, as the next one."""
        loss, seen = self.loss_sum - self.logged[0], self.seen - self.logged[1]
        self.logged = (self.loss_sum, self.seen)
        return StepRecord(step=step, elapsed_s=elapsed_s, train_loss=loss / max(seen, 1), lr=lr)

    def epoch_record(
        self,
        step: int,
        lr: float,
        *,
        train_s: float,
        eval_s: float,
        elapsed_s: float,
        val: tuple[float, float] | None,
        world_size: int = 1,
    ) -> EpochRecord:
        """The epoch's line of the history: its training figures (images/s over all
        ``world_size`` processes) and ``val``, the validation (loss, accuracy) if it ran."""
        val_loss, val_acc = val if val is not None else (None, None)
        return EpochRecord(
            epoch=self.epoch, step=step, lr=lr, train_loss=self.mean_loss,
            train_acc=self.accuracy, val_loss=val_loss, val_acc=val_acc,
            images_per_s=self.seen * world_size / max(train_s, 1e-9), train_s=train_s,
            eval_s=eval_s, elapsed_s=elapsed_s,
        )  # fmt: skip
