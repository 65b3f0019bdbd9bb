"""How a run executes: memory format, precision and the module the training steps call."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from alnumzoo.data.base import SizedDataset
from alnumzoo.inference.device import autocast_dtype
from alnumzoo.training.cpu_speed import choose_cpu_execution
from alnumzoo.training.distributed import DistInfo
from alnumzoo.training.options import FitOptions

__all__ = ["choose_execution", "forward_model"]

# The CPU speed probe costs a few seconds; below these sizes a run keeps plain fp32 NCHW.
_PROBE_MIN_BUDGET_S = 60.0
_PROBE_MIN_IMAGES = 20_000
# torch.compile pays back its compile time only on longer runs.
_COMPILE_MIN_BUDGET_S = 600.0


def choose_execution(
    model: nn.Module,
    train: SizedDataset[Any],
    batch_size: int,
    epochs: int | None,
    options: FitOptions,
    device: torch.device,
    info: DistInfo,
    saved: dict[str, Any] | None,
) -> tuple[bool, torch.dtype | None, dict[str, float]]:
    """Channels-last or not, the autocast dtype (``None``: fp32), and the CPU probe's
    measurements when it ran. CUDA takes channels-last and bf16 (fp16 on older GPUs); the CPU
    keeps a resumed run's choice, or measures one for runs long enough to repay the probe."""
    if device.type == "cuda":
        use_cl = True if options.channels_last == "auto" else bool(options.channels_last)
        return use_cl, autocast_dtype(device, options.amp), {}
    images = len(train)
    long_run = (options.budget_s or 0) >= _PROBE_MIN_BUDGET_S or (
        epochs is not None and epochs * images >= _PROBE_MIN_IMAGES
    )
    execution = choose_cpu_execution(
        model, train, batch_size, options.channels_last, options.amp,
        saved.get("execution") if saved else None,
        probe=long_run and info.world_size == 1,
    )  # fmt: skip
    return execution.channels_last, execution.autocast_dtype, execution.images_per_s


def forward_model(
    model: nn.Module, options: FitOptions, device: torch.device, info: DistInfo
) -> nn.Module:
    """The module the steps call: wrapped in DDP across processes, compiled where it pays
    (``compile="auto"``: a single CUDA device and a budget of 10 minutes or more)."""
    compile_it = options.compile is True or (
        options.compile == "auto"
        and device.type == "cuda"
        and info.world_size == 1
        and (options.budget_s or 0) >= _COMPILE_MIN_BUDGET_S
    )
    forward = model
    if info.world_size > 1:
        ids = [device.index] if device.type == "cuda" else None
        forward = DistributedDataParallel(model, device_ids=ids)
    if compile_it:
        forward = torch.compile(forward)  # type: ignore[assignment]
    return forward
