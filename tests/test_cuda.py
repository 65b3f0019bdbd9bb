"""The CUDA path of fit(), evaluate() and the on-device augmentation. Skipped without a GPU
(CI has none); run on a lent GPU with ``pytest tests/test_cuda.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from _tiny import tiny_cifar

import alnumzoo
from alnumzoo.data import AUGMENT_PRESETS, DeviceLoader
from alnumzoo.training import get_recipe

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_fit_on_cuda_uses_mixed_precision_and_channels_last(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = alnumzoo.create_model("cifar_cnn")
    # Augmented although the run is short, so that the on-device augmentation runs.
    augmenting = get_recipe("default", "cifar_cnn").with_overrides(augment_min_epochs=0)
    history = alnumzoo.fit(
        model, tiny_cifar(256), tiny_cifar(64, 1), epochs=3, batch_size=32, progress=False,
        checkpoint=tmp_path / "run.pt", recipe=augmenting,
    )  # fmt: skip
    assert history.augment == "cifar10"
    assert history.device.startswith("cuda")
    assert history.precision in ("bf16", "fp16")
    assert history.channels_last
    final = history.records[-1].val_acc
    assert final is not None
    assert final > 0.5
    # Weights come back in the standard layout, and the checkpoint resumes on the GPU.
    assert all(p.is_contiguous() for p in model.parameters())
    resumed = alnumzoo.fit(
        alnumzoo.create_model("cifar_cnn"), tiny_cifar(256), tiny_cifar(64, 1), epochs=4,
        batch_size=32, progress=False, checkpoint=tmp_path / "run.pt", resume=True,
        recipe=augmenting,
    )  # fmt: skip
    assert len(resumed.records) == 4


def test_device_augmentation_matches_the_cpu() -> None:
    """The same seeds give the same augmented batch on the GPU as on the CPU."""
    data = tiny_cifar(64)
    batches = {}
    for device in ("cpu", "cuda"):
        loader = DeviceLoader(data, 16, augment=AUGMENT_PRESETS["cifar10"], device=device, seed=3)
        x, y = next(iter(loader))
        batches[device] = (x.cpu(), y.cpu())
    torch.testing.assert_close(batches["cuda"][0], batches["cpu"][0], atol=1e-4, rtol=0)
    assert torch.equal(batches["cuda"][1], batches["cpu"][1])
