"""Joining a ``torch.distributed`` job: torchrun's environment, or processes fit() spawns."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from alnumzoo.training.history import History

if TYPE_CHECKING:
    from alnumzoo.training.options import FitOptions

#: What launch_local runs in each process: ``target(model, train, val, options)``.
FitTarget = Callable[[torch.nn.Module, Any, Any, "FitOptions"], History]

__all__ = ["DistInfo", "average_buffers", "init_distributed", "launch_local", "max_across_ranks"]


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a (possibly single-process) job.

    Attributes:
        rank: Global rank.
        world_size: Number of processes.
        local_rank: Rank on this machine (picks the GPU).
        owns_group: Whether this process created the process group (and must destroy it).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that prints, checkpoints and returns the history."""
        return self.rank == 0


def init_distributed(device: torch.device) -> DistInfo:
    """Join the job described by torchrun's variables (``RANK``, ``WORLD_SIZE``,
    ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``), creating the process group with NCCL on
    CUDA and gloo on the CPU. Without those variables this is a single process.

    An already initialised process group is used as it is.
    """
    if dist.is_available() and dist.is_initialized():
        return DistInfo(
            dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0))
        )
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistInfo()
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed")
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistInfo(rank, world_size, local_rank, owns_group=True)


def max_across_ranks(value: float, info: DistInfo, device: torch.device) -> float:
    """The largest ``value`` over all ranks (the slowest rank's clock decides the budget)."""
    if info.world_size <= 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def average_buffers(module: torch.nn.Module, info: DistInfo) -> None:
    """Average floating-point buffers (BatchNorm running statistics) over all ranks.

    DDP keeps parameters identical, but each rank updates its BatchNorm statistics from its
    own shard after the last broadcast; averaging them before evaluation and at the end gives
    every rank the same, better estimated, statistics.
    """
    if info.world_size <= 1:
        return
    for buffer in module.buffers():
        if buffer.is_floating_point():
            dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
            buffer.div_(info.world_size)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(
    rank: int, world_size: int, port: int, target: FitTarget, model: torch.nn.Module,
    train: Any, val: Any, options: FitOptions, result: str,
) -> None:  # fmt: skip
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )  # fmt: skip
    history = target(model, train, val, options)
    if rank == 0:
        torch.save({"state": model.state_dict(), "history": history.to_dict()}, result)


def launch_local(
    target: FitTarget, model: torch.nn.Module, train: Any, val: Any, options: FitOptions
) -> History:
    """Run ``target`` (``fit``'s per-process run) in ``options.devices`` spawned processes on
    this machine (DDP over 127.0.0.1) and load rank 0's trained weights back into ``model``.

    The target, model, data and options are pickled to each process, so they must be
    picklable (alnumzoo's models and in-memory data sets are).
    """
    nprocs = options.devices or 1
    if str(options.device) != "cpu" and torch.cuda.is_available():
        nprocs = min(nprocs, torch.cuda.device_count())
    with tempfile.TemporaryDirectory() as tmp:
        result = str(Path(tmp) / "rank0.pt")
        # torch.multiprocessing.spawn ships without type annotations.
        mp.spawn(  # type: ignore[attr-defined,no-untyped-call]
            _worker,
            args=(nprocs, _free_port(), target, model, train, val, options, result),
            nprocs=nprocs,
            join=True,
        )
        out = torch.load(result, weights_only=True)
    model.load_state_dict(out["state"])
    model.eval()
    return History.from_dict(out["history"])
