"""Training checkpoints: written atomically, read back without unpickling code."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import torch

from alnumzoo._atomic import atomic_write

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "data_fingerprint",
    "load_checkpoint",
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
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} is not an alnumzoo training checkpoint (expected format {CHECKPOINT_FORMAT!r})"
        )
    return state


def data_fingerprint(data: object) -> str:
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
        digest.update(f"{type(data).__qualname__}:{len(data)}".encode())  # type: ignore[arg-type]
    return digest.hexdigest()
