"""Values as JSON holds them: the one conversion shared by configs and checkpoints."""

from __future__ import annotations

from typing import Any

__all__ = ["tuples_as_lists"]


def tuples_as_lists(value: Any) -> Any:
    """``value`` with tuples (nested too) as lists, as it reads back from JSON or a checkpoint,
    so values compare equal however they were stored."""
    if isinstance(value, tuple | list):
        return [tuples_as_lists(v) for v in value]
    return value
