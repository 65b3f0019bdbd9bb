"""Pick the fastest way to train a model on this CPU: memory format and bf16, by measurement.

The same choice is right on one CPU and badly wrong on another: on an AVX2-only EPYC, bf16
autocast made training 3.5x slower and channels-last 1.4-1.6x faster; on a Zen 4 EPYC with
native bf16 (AVX512-BF16), bf16 with channels-last made BottleneckCNN 5.8x faster than fp32.
So bf16 is only considered where the CPU reports native bf16 instructions, and among the
candidates the fastest is measured with a few real training steps on a copy of the model.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from alnumzoo._atomic import atomic_write
from alnumzoo.data.base import SizedDataset

__all__ = ["CpuExecution", "choose_cpu_execution", "cpu_has_native_bf16", "probe_cpu_execution"]

# A candidate must beat plain fp32 NCHW by this much to be chosen, so timing noise between
# two near-equal options never flips a run into a less-tested mode.
_MARGIN = 1.05
_MIN_TIMED_S = 0.25
_MAX_STEPS = 4

_cache: dict[tuple[object, ...], CpuExecution] = {}
#: Where probe decisions are kept between processes, so that the same call on the same machine
#: trains the same way every time (the timing noise of a
#: second probe could otherwise flip it between fp32 and bf16). ``ALNUMZOO_CPU_PROBE_CACHE``
#: moves it; an empty value turns it off.
_DISK_CACHE_ENV = "ALNUMZOO_CPU_PROBE_CACHE"


def _disk_cache_path() -> Path | None:
    value = os.environ.get(_DISK_CACHE_ENV)
    if value is not None:
        return Path(value).expanduser() if value else None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "alnumzoo" / "cpu_probe.json"


def _disk_key(key: tuple[object, ...]) -> str:
    machine = (platform.machine(), platform.processor(), torch.__version__, os.cpu_count())
    text = repr((machine, getattr(key[0], "__qualname__", key[0]), key[1:]))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _read_disk_cache() -> dict[str, Any]:
    path = _disk_cache_path()
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # a damaged cache is only a cache: measure again and rewrite it
    return data if isinstance(data, dict) else {}


def _remember(key: str, chosen: CpuExecution) -> None:
    path = _disk_cache_path()
    if path is None:
        return
    data = _read_disk_cache()
    data[key] = {
        "channels_last": chosen.channels_last,
        "bf16": chosen.autocast_dtype is torch.bfloat16,
        "images_per_s": chosen.images_per_s,
    }
    text = json.dumps(data, indent=1, sort_keys=True)
    with contextlib.suppress(OSError):  # a read-only home still trains, just unremembered
        atomic_write(path, lambda tmp: tmp.write_text(text))


def _recalled(key: str) -> CpuExecution | None:
    entry = _read_disk_cache().get(key)
    if not isinstance(entry, dict):
        return None
    try:
        return CpuExecution(
            channels_last=bool(entry["channels_last"]),
            autocast_dtype=torch.bfloat16 if entry["bf16"] is True else None,
            images_per_s={str(k): float(v) for k, v in entry["images_per_s"].items()},
        )
    except (TypeError, KeyError, AttributeError, ValueError):
        return None


@dataclass(frozen=True)
class CpuExecution:
    """How training runs on the CPU.

    Attributes:
        channels_last: Train in channels-last memory format.
        autocast_dtype: ``torch.bfloat16`` for bf16 autocast, ``None`` for fp32.
        images_per_s: Measured training throughput per candidate (``"fp32"``,
            ``"fp32+channels_last"``, ``"bf16"``, ``"bf16+channels_last"``); empty when nothing
            was measured.
    """

    channels_last: bool = False
    autocast_dtype: torch.dtype | None = None
    images_per_s: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """``"fp32"``, ``"bf16+channels_last"``, ...: the key of this choice."""
        return _name(self.autocast_dtype, self.channels_last)


def _name(dtype: torch.dtype | None, channels_last: bool) -> str:
    precision = "bf16" if dtype is torch.bfloat16 else "fp32"
    return precision + ("+channels_last" if channels_last else "")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic in hardware (AVX512-BF16 or AMX-BF16).

    Without it PyTorch emulates bf16, which is several times slower than fp32.
    """
    try:
        capability = torch._C._cpu._get_cpu_capability()
    except (AttributeError, RuntimeError):  # older or exotic builds: assume no
        return False
    return bool(capability.get("avx512_bf16") or capability.get("amx_bf16"))


def _steps_per_second(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, dtype: torch.dtype | None
) -> float:
    def step() -> None:
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            loss: torch.Tensor = nn.functional.cross_entropy(model(x).float(), y)
        torch.autograd.backward(loss)
        model.zero_grad(set_to_none=True)

    step()  # warm-up: allocator, oneDNN primitive cache
    done, start = 0, time.perf_counter()
    while done < _MAX_STEPS and (done == 0 or time.perf_counter() - start < _MIN_TIMED_S):
        step()
        done += 1
    return done / (time.perf_counter() - start)


def probe_cpu_execution(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    channels_last: bool | None = None,
    bf16: bool | None = None,
) -> CpuExecution:
    """Measure the candidate ways of training ``model`` on batches like ``x`` and pick the
    fastest.

    The measurement runs forward and backward passes on a deep copy of ``model`` under a
    forked RNG, so neither the model nor the random streams of the run change. Decisions are
    remembered, keyed by the model's class and shapes, batch shape, thread count, CPU and torch
    version: for the process, and on disk (``~/.cache/alnumzoo/cpu_probe.json``, moved or
    turned off with ``ALNUMZOO_CPU_PROBE_CACHE``), so the same run trains the same way every
    time on a machine and a seeded run is reproducible.

    Args:
        model: The model to be trained (4-D image input).
        x: A training batch ``(N, C, H, W)``.
        y: Its labels.
        channels_last: Force the memory format, or ``None`` to measure both.
        bf16: Force bf16 autocast on (``True``) or off (``False``), or ``None`` to measure it
            where [`cpu_has_native_bf16`][alnumzoo.training.cpu_speed.cpu_has_native_bf16] says the
            CPU has it.

    Returns:
        The chosen [`CpuExecution`][alnumzoo.training.cpu_speed.CpuExecution], with every measured
        throughput.
    """
    formats = [False, True] if channels_last is None else [channels_last]
    dtypes: list[torch.dtype | None] = (
        [None, torch.bfloat16] if bf16 is None and cpu_has_native_bf16() else [None]
    )
    if bf16 is True:
        dtypes = [torch.bfloat16]
    candidates = [(d, f) for d in dtypes for f in formats]
    if len(candidates) == 1:
        return CpuExecution(channels_last=candidates[0][1], autocast_dtype=candidates[0][0])
    shapes = tuple((k, tuple(v.shape)) for k, v in model.state_dict().items())
    key = (type(model), shapes, tuple(x.shape), torch.get_num_threads(), tuple(candidates))
    if key in _cache:
        return _cache[key]
    disk_key = _disk_key(key)
    recalled = _recalled(disk_key)
    if recalled is not None:
        _cache[key] = recalled
        return recalled
    measured: dict[str, float] = {}
    with torch.random.fork_rng(devices=[]):
        probe = copy.deepcopy(model).train()
        for dtype, cl in candidates:
            fmt = torch.channels_last if cl else torch.contiguous_format
            probe.to(memory_format=fmt)
            rate = _steps_per_second(probe, x.contiguous(memory_format=fmt), y, dtype)
            measured[_name(dtype, cl)] = rate * x.shape[0]
    baseline = _name(*candidates[0])
    best = max(measured, key=lambda k: measured[k])
    if measured[best] < _MARGIN * measured[baseline]:
        best = baseline
    dtype, cl = next(c for c in candidates if _name(*c) == best)
    chosen = CpuExecution(channels_last=cl, autocast_dtype=dtype, images_per_s=measured)
    _cache[key] = chosen
    _remember(disk_key, chosen)
    return chosen


def choose_cpu_execution(
    model: nn.Module,
    train: SizedDataset[Any],
    batch_size: int,
    channels_last: bool | str,
    amp: bool | str,
    kept: dict[str, Any] | None,
    *,
    probe: bool,
) -> CpuExecution:
    """Memory format and precision for training ``model`` on the CPU.

    A resumed run keeps its checkpoint's choice (``kept``); ``"auto"`` settings are measured
    with [`probe_cpu_execution`][alnumzoo.training.cpu_speed.probe_cpu_execution] when ``probe``
    is set (runs long enough to repay the probe's few seconds) and are plain fp32 NCHW
    otherwise.
    """
    if kept is not None:
        dtype = torch.bfloat16 if kept["precision"] == "bf16" else None
        return CpuExecution(channels_last=bool(kept["channels_last"]), autocast_dtype=dtype)
    force_cl = None if channels_last == "auto" else bool(channels_last)
    force_bf16 = None if amp == "auto" else bool(amp)
    if not probe or len(train) == 0:
        return CpuExecution(
            channels_last=bool(force_cl), autocast_dtype=torch.bfloat16 if force_bf16 else None
        )
    sample, _ = train[0]
    shape = (batch_size, *torch.as_tensor(sample).shape)
    with torch.random.fork_rng(devices=[]):
        x = torch.rand(shape)
    y = torch.zeros(batch_size, dtype=torch.long)
    return probe_cpu_execution(model, x, y, channels_last=force_cl, bf16=force_bf16)
