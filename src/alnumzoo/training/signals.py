"""Ctrl-C and SIGTERM as a flag the training loop checks between steps, and the exception a
run ends with when one arrives."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

__all__ = ["TrainingInterrupted", "stop_signals"]


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


@contextmanager
def stop_signals() -> Iterator[list[str]]:
    """Turn the first Ctrl-C or SIGTERM into a flag (the signal's name appended to the yielded
    list), so the checkpoint is written from a consistent state, never from inside an optimizer
    step. A second signal acts as usual. Off the main thread, where signals cannot be caught,
    the flag simply stays empty."""
    flag: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        flag.append(signal.Signals(signum).name)
        for s, h in previous.items():
            signal.signal(s, h)

    for s in previous:
        signal.signal(s, handler)
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
