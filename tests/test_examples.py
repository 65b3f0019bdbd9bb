"""Every example runs in its quick mode (tiny data, seconds) so none can rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
QUICK_FONTS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation"]
CIFAR_TAR = EXAMPLES.parents[1] / "shared" / "data" / "cifar10_jpeg_q75.tar"


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, script, *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=EXAMPLES,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_quickstart() -> None:
    out = run("quickstart.py", "--char", "a")
    assert "bottleneck_cnn.alnum52" in out
    assert "classifying a rendered 'a' (label index 35)" in out
    assert "efficientnet_b2" in out


def test_demo(tmp_path: Path) -> None:
    out = run(
        "demo.py",
        "--budget",
        "4s",
        "--train-per-class",
        "4",
        "--out",
        str(tmp_path),
        "--font-dirs",
        *QUICK_FONTS,
    )
    assert "stopped by the budget" in out
    assert "outputs identical: True" in out
    assert "demo model" in out
    assert "reads '" in out
    assert (tmp_path / "model" / "model.safetensors").is_file()


@pytest.mark.parametrize(
    ("script", "expect"),
    [
        ("report_000_bottleneck_cnn.py", "valid top-1 (unseen fonts)"),
        ("report_001_lite_resnet.py", "best valid"),
        ("report_003_efficientnet_dogs.py", "test top-1 with 10-crop TTA"),
        ("report_004_crnn.py", "CRNN (report, rnn): test top-1"),
        ("finetune_efficientnet.py", "3 classes (daisy, rose, tulip)"),
        ("time_budget.py", "test top-1"),
    ],
)
def test_report_examples_quick(script: str, expect: str) -> None:
    assert expect in run(script, "--quick")


@pytest.mark.skipif(not CIFAR_TAR.exists(), reason="no shared CIFAR-10 copy beside the repo")
def test_cifar_example_quick() -> None:
    assert "CIFAR-10 (JPEG q75) test top-1" in run("report_002_cifar_cnn.py", "--quick")
