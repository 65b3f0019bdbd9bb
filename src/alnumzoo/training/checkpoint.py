"""Training checkpoints: written atomically, read back without unpickling code."""

from __future__ import annotations

import hashlib
import io
import math
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from alnumzoo._atomic import atomic_write
from alnumzoo._jsonable import tuples_as_lists
from alnumzoo.data.base import SizedDataset
from alnumzoo.training.history import History
from alnumzoo.training.recipes import Recipe

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "TrainState",
    "check_training_checkpoint",
    "data_fingerprint",
    "load_checkpoint",
    "load_training_checkpoint",
    "save_checkpoint",
]
# Rows hashed for a data fingerprint: enough to tell data sets apart, cheap on large ones.
_FINGERPRINT_ROWS = 4096

#: Format tag stored in every checkpoint; a different tag is refused on resume.
CHECKPOINT_FORMAT = "alnumzoo-checkpoint/1"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or from another run; the message says which."""


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically: serialise in memory, write a temporary file
    beside it, then rename, so a crash or kill never leaves a torn checkpoint (the previous
    one stays intact).

    ``state`` must hold only tensors, numbers, strings and containers of them, so that
    [`load_checkpoint`][alnumzoo.training.checkpoint.load_checkpoint] can read it with
    ``weights_only=True``.
    """
    path = Path(path)
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, **state}, buffer)
    payload = buffer.getvalue()

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(payload)
            f.flush()

    atomic_write(path, write)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by
    [`save_checkpoint`][alnumzoo.training.checkpoint.save_checkpoint] (``weights_only=True``).

    Raises:
        CheckpointError: the file is missing, corrupt, or not an alnumzoo checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    _check_archive(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} is not an alnumzoo training checkpoint (expected format {CHECKPOINT_FORMAT!r})"
        )
    return state


def _check_archive(path: Path) -> None:
    # torch.save writes a zip whose members carry CRCs that torch.load does not check: a
    # damaged byte in a tensor would be restored silently.
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    if bad is not None:
        raise CheckpointError(f"checkpoint {path} is corrupt: {bad} fails its CRC check")


def _number(value: Any, low: float = 0.0) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value >= low
    )


# What every field must be before anything is restored (name -> (check, what it must be)).
_FIELDS: dict[str, tuple[Any, str]] = {
    "arch": (lambda v: isinstance(v, str), "an architecture name"),
    "model": (lambda v: isinstance(v, dict), "a state dict"),
    "optimizer": (lambda v: isinstance(v, dict), "an optimizer state"),
    "scheduler": (lambda v: isinstance(v, dict), "a scheduler state"),
    "scaler": (lambda v: isinstance(v, dict), "a gradient scaler state"),
    "loader": (lambda v: isinstance(v, dict), "a loader position"),
    "rng": (
        lambda v: isinstance(v, dict) and isinstance(v.get("torch"), torch.Tensor),
        "the RNG states",
    ),
    "step": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a step >= 0"),
    "spent_s": (_number, "a finite number of seconds >= 0"),
    "best_acc": (lambda v: _number(v, low=-1.0) and v <= 1.0, "an accuracy"),
    "best_epoch": (lambda v: v is None or (isinstance(v, int) and v >= 0), "an epoch"),
    "best_state": (
        lambda v: v is None
        or (isinstance(v, dict) and all(isinstance(t, torch.Tensor) for t in v.values())),
        "a state dict of tensors or null",
    ),
    "history": (lambda v: isinstance(v, dict), "a history"),
}


def load_training_checkpoint(path: str | Path, device: torch.device) -> dict[str, Any]:
    """`load_checkpoint` of a run to resume, with every field checked
    ([`check_training_checkpoint`][alnumzoo.training.checkpoint.check_training_checkpoint])."""
    state = load_checkpoint(path, map_location=device)
    check_training_checkpoint(state, path)
    return state


def check_training_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Check every field a resume restores, before anything is restored: a damaged or
    hand-edited checkpoint fails here with the field's name, not later with a KeyError, or
    with a ``spent_s`` of NaN that would make a budget never end.

    Raises:
        CheckpointError: a field is missing or of the wrong type or range.
    """
    for name, (ok, what) in _FIELDS.items():
        if name not in state:
            raise CheckpointError(f"checkpoint {path} has no {name!r} (expected {what})")
        if not ok(state[name]):
            raise CheckpointError(
                f"checkpoint {path}: {name!r} must be {what}, got {str(state[name])[:60]!r}"
            )


def data_fingerprint(data: SizedDataset[Any]) -> str:
    """A short hash that tells training sets apart: for in-memory sets the shape, every label
    and an evenly spaced sample of images; for other data sets their type and length."""
    digest = hashlib.blake2b(digest_size=12)
    images = getattr(data, "images", None)
    targets = getattr(data, "targets", None)
    if isinstance(images, torch.Tensor) and isinstance(targets, torch.Tensor):
        digest.update(repr(tuple(images.shape)).encode())
        digest.update(targets.cpu().numpy().tobytes())
        step = max(1, len(images) // _FINGERPRINT_ROWS)
        digest.update(images[::step].cpu().contiguous().numpy().tobytes())
    else:
        digest.update(f"{type(data).__qualname__}:{len(data)}".encode())
    return digest.hexdigest()


@dataclass
class TrainState:
    """Everything a run needs to continue exactly where it stopped: the objects being trained
    and the run's bookkeeping.

    [`state_dict`][alnumzoo.training.checkpoint.TrainState.state_dict] gives what
    [`save_checkpoint`][alnumzoo.training.checkpoint.save_checkpoint] writes;
    [`load_state_dict`][alnumzoo.training.checkpoint.TrainState.load_state_dict] checks that a
    checkpoint belongs to this run before restoring it.

    Attributes:
        arch: Architecture name, checked on resume.
        recipe: The recipe; a checkpoint written with another one is refused.
        run: The run's identity (batch size, learning rate, training set size and
            fingerprint); a checkpoint started with other values is refused unless resumed
            anyway.
        execution: Memory format and precision the run uses.
        model, optimizer, scheduler, scaler, loader: What is trained and how.
        ema, swa: Weight averages, if the recipe keeps them.
        step: Optimizer steps done.
        best_acc, best_epoch, best_state: The best validation accuracy so far, its epoch and
            the weights that reached it.
        history: The run's history.
    """

    arch: str
    recipe: Recipe
    run: dict[str, Any]
    execution: dict[str, Any]
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: torch.amp.GradScaler
    loader: Any
    history: History
    ema: AveragedModel | None = None
    swa: AveragedModel | None = None
    step: int = 0
    best_acc: float = -1.0
    best_epoch: int | None = None
    best_state: dict[str, torch.Tensor] | None = field(default=None, repr=False)

    def state_dict(self, *, spent_s: float, device: torch.device) -> dict[str, Any]:
        """The checkpoint contents, with ``spent_s`` seconds of budget spent."""
        return {
            "arch": self.arch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "swa": self.swa.state_dict() if self.swa is not None else None,
            "loader": self.loader.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            },
            "step": self.step,
            "spent_s": spent_s,
            "best_acc": self.best_acc,
            "best_epoch": self.best_epoch,
            "best_state": self.best_state,
            "history": self.history.to_dict(),
            "recipe": asdict(self.recipe),
            "execution": self.execution,
            "run": self.run,
        }

    def check_resumable(self, state: dict[str, Any], source: str | Path, *, anyway: bool) -> None:
        """Refuse a checkpoint written for another architecture, recipe or run.

        Raises:
            CheckpointError: naming what differs.
        """
        if state.get("arch") != self.arch:
            raise CheckpointError(
                f"{source} was written for {state.get('arch')!r}, not {self.arch!r}"
            )
        written = state.get("recipe", {})
        current = asdict(self.recipe)
        plain = tuples_as_lists
        changed = sorted(
            k for k in current if k in written and plain(written[k]) != plain(current[k])
        )
        if changed:
            raise CheckpointError(
                f"{source} was written with a different recipe ({', '.join(changed)} "
                f"differ); resume with the recipe it was started with"
            )
        started = state.get("run")
        if started is None or anyway:
            return
        differ = [
            f"{k}: {started[k]} then, {now} now"
            for k, now in self.run.items()
            if k in started and started[k] != now
        ]
        if differ:
            raise CheckpointError(
                f"{source} was started with other settings ({'; '.join(differ)}); "
                "resume with the same ones, or pass resume_anyway=True to continue anyway"
            )

    def load_state_dict(self, state: dict[str, Any], device: torch.device) -> None:
        """Restore a checkpoint (checked with
        [`check_resumable`][alnumzoo.training.checkpoint.TrainState.check_resumable] first).

        Raises:
            CheckpointError: its weights, or its best epoch's, do not fit this model.
        """
        expected = {k: tuple(v.shape) for k, v in self.model.state_dict().items()}
        for name in ("model", "best_state"):
            weights = state[name]
            if weights is None:
                continue
            shapes = {k: tuple(v.shape) for k, v in weights.items()}
            if shapes != expected:
                differ = sorted(set(shapes.items()) ^ set(expected.items()))[:3]
                raise CheckpointError(
                    f"the checkpoint's {name} does not fit this model (first differences: "
                    f"{differ}); was it written for another head or size?"
                )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
        if self.swa is not None and state.get("swa") is not None:
            self.swa.load_state_dict(state["swa"])
        self.loader.load_state_dict(state["loader"])
        torch.set_rng_state(state["rng"]["torch"].cpu())
        if device.type == "cuda" and state["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(state["rng"]["cuda"].cpu(), device)
        self.step = int(state["step"])
        self.best_acc = float(state["best_acc"])
        self.best_epoch = state["best_epoch"]
        self.best_state = state["best_state"]
        self.history = History.from_dict(state["history"])
