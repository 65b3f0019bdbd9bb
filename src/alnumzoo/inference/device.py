"""Choosing the device and the numeric precision a run uses."""

from __future__ import annotations

import torch

__all__ = ["autocast", "autocast_dtype", "resolve_device"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → the current CUDA device if there is one, else the CPU; other values pass
    through ``torch.device``.

    Raises:
        RuntimeError: CUDA was asked for but is not available.
    """
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} was requested but CUDA is not available here")
    return resolved


def autocast_dtype(device: torch.device, amp: bool | str = "auto") -> torch.dtype | None:
    """The mixed-precision dtype for ``device``: bf16 on GPUs that support it, fp16 (with a
    gradient scaler) on older ones such as the T4, ``None`` (fp32) on the CPU or with
    ``amp=False``."""
    if amp is False or device.type != "cuda":
        return None
    if torch.cuda.is_bf16_supported(including_emulation=False):
        return torch.bfloat16
    return torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None) -> torch.autocast:
    """Mixed precision in ``dtype`` on ``device``, or a no-op context for ``None`` (fp32)."""
    return torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)
