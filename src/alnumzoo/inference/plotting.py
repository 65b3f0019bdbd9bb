"""The optional matplotlib dependency of the plotting methods."""

from __future__ import annotations

from types import ModuleType

__all__ = ["pyplot"]


def pyplot(what: str, headless: bool) -> ModuleType:
    """``matplotlib.pyplot``, on the non-interactive Agg backend when the figure only goes to a
    file (``headless``).

    Raises:
        ImportError: matplotlib is missing; the message names ``what`` needed it and how to
            install it.
    """
    try:
        import matplotlib

        if headless:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f'{what} needs matplotlib: pip install "alnumzoo[plot]"') from exc
    return plt
