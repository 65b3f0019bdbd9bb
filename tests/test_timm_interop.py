"""alnumzoo and timm: registration on timm's import, local-dir folders, data configs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

import alnumzoo


@pytest.mark.slow  # end to end: a fresh interpreter
def test_import_alnumzoo_does_not_import_timm_but_timm_then_knows_it() -> None:
    code = (
        "import sys, alnumzoo\n"
        "assert 'timm' not in sys.modules, 'import alnumzoo imported timm'\n"
        "import timm\n"
        "m = timm.create_model('bottleneck_cnn')\n"
        "names = set(timm.list_models('*cnn*')) & {'bottleneck_cnn', 'cifar_cnn'}\n"
        "print(type(m).__name__, sorted(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["BottleneckCNN", "['bottleneck_cnn',", "'cifar_cnn']"]


@pytest.mark.parametrize("arch", ["bottleneck_cnn", "lite_resnet", "crnn", "cifar_cnn"])
def test_timm_builds_every_architecture(arch: str) -> None:
    import timm

    model = timm.create_model(arch)
    assert type(model) is type(alnumzoo.create_model(arch))
    custom = timm.create_model(arch, num_classes=7)
    assert custom.num_classes == 7


def test_timm_builds_registry_variants_and_their_weights() -> None:
    import timm

    assert timm.create_model("lite_resnet.alnum52_48").input_size == (48, 48)
    pretrained = timm.create_model("crnn.fashion_mnist", pretrained=True)
    assert pretrained.load_report is not None
    assert pretrained.load_report.verified
    expected = alnumzoo.from_pretrained("crnn.fashion_mnist")
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(pretrained(x), expected(x))


def test_local_dir_round_trip_is_identical(tmp_path: Path) -> None:
    import timm
    import timm.data

    torch.manual_seed(0)
    model = alnumzoo.create_model("lite_resnet.alnum52_48").eval()
    folder = alnumzoo.save_pretrained(model, tmp_path / "m")
    loaded = timm.create_model(f"local-dir:{folder}", pretrained=True)
    x = torch.rand(4, 1, 48, 48)
    assert torch.equal(loaded(x), model(x))
    skeleton = timm.create_model(f"local-dir:{folder}")  # architecture and arguments only
    assert skeleton.input_size == (48, 48)
    config = timm.data.resolve_data_config(model=loaded)
    assert list(config["input_size"]) == [1, 48, 48]
    assert list(config["mean"]) == [0.0]
