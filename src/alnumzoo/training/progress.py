"""The progress bar of a fit() run (tqdm: terminal or notebook)."""

from __future__ import annotations

from tqdm.auto import tqdm

__all__ = ["TrainingBar"]


class TrainingBar:
    """A bar over the run's progress (0 to 1) with the epoch's loss, accuracy, speed and the
    budget left.

    Args:
        description: Shown before the bar.
        enabled: ``False`` draws nothing.
    """

    def __init__(self, description: str, *, enabled: bool) -> None:
        self._bar = tqdm(
            total=1000,
            disable=not enabled,
            desc=description,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}",
            dynamic_ncols=True,
        )

    @property
    def enabled(self) -> bool:
        """Whether the bar is drawn (callers skip gathering what it would show otherwise)."""
        return not self._bar.disable

    def show(
        self,
        progress: float,
        *,
        epoch: int,
        loss: float,
        accuracy: float,
        images_per_s: float,
        seconds_left: float | None,
    ) -> None:
        """Move the bar to ``progress`` and describe the epoch so far."""
        self._bar.n = min(1000, int(progress * 1000))
        left = f" left {max(0.0, seconds_left):,.0f}s" if seconds_left is not None else ""
        self._bar.set_postfix_str(
            f"epoch {epoch} loss {loss:.3f} acc {accuracy:.3f} {images_per_s:,.0f} img/s{left}",
            refresh=False,
        )
        self._bar.refresh()

    def close(self) -> None:
        """Finish the bar."""
        self._bar.close()
