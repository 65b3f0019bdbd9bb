"""fit() under torchrun: two CPU processes with gloo on 127.0.0.1 train in lockstep."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _tiny import tiny_cifar

import alnumzoo

pytestmark = pytest.mark.slow

_WORKER = r"""
import json, os, sys
import torch
sys.path.insert(0, sys.argv[2])
import alnumzoo
from _tiny import tiny_cifar
torch.manual_seed(0)
model = alnumzoo.create_model("cifar_cnn")
history = alnumzoo.fit(model, tiny_cifar(128), tiny_cifar(40, 1), epochs=2, batch_size=16,
                       device="cpu", progress=False)
rank = int(os.environ["RANK"])
torch.save(model.state_dict(), os.path.join(sys.argv[1], f"rank{rank}.pt"))
summary = {"steps": history.steps, "world_size": history.world_size,
           "val": [r.val_acc for r in history.records], "stop": history.stop_reason}
with open(os.path.join(sys.argv[1], f"rank{rank}.json"), "w") as f:
    json.dump(summary, f)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_gloo_processes_agree(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    env = {
        **os.environ,
        "GLOO_SOCKET_IFNAME": "lo",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(Path(__file__).parent),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nnodes",
            "1",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(_free_port()),
            str(script),
            str(tmp_path),
            str(Path(__file__).parent),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summaries = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    # 128 images shared by 2 ranks at 16 per step: 4 steps per epoch, 2 epochs.
    assert summaries[0] == summaries[1]
    assert summaries[0]["steps"] == 8
    assert summaries[0]["world_size"] == 2
    weights = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    for key, value in weights[0].items():
        assert torch.equal(value, weights[1][key]), key


def test_fit_devices_spawns_processes_and_returns_weights() -> None:
    """``fit(..., devices=2)`` starts two gloo processes itself; rank 0's weights come back."""
    torch.manual_seed(0)
    model = alnumzoo.create_model("cifar_cnn")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    history = alnumzoo.fit(model, tiny_cifar(128), tiny_cifar(40, 1), epochs=2, batch_size=16,
                           device="cpu", progress=False, devices=2)  # fmt: skip
    assert history.world_size == 2
    assert history.steps == 8  # 128 images / (2 ranks x 16) per step, 2 epochs
    assert not model.training
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert "layer1.0.weight" in changed
