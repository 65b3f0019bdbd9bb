"""The quickstart's code blocks run as they stand, in order, like a new user would run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "docs" / "quickstart.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", QUICKSTART.read_text(), flags=re.DOTALL)


def test_quickstart_runs_verbatim(tmp_path: Path) -> None:
    from alnumzoo.data import FashionMNIST

    try:
        FashionMNIST(split="test")
    except (FileNotFoundError, ValueError) as exc:
        pytest.skip(f"the quickstart needs Debian's dataset-fashion-mnist: {exc}")
    # Run where a user would: a folder with the repository's examples/ beside it.
    (tmp_path / "examples").symlink_to(REPO / "examples")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    python = _blocks("python")
    bash = _blocks("bash")
    assert len(python) == 2
    assert len(bash) == 1
    out = subprocess.run(
        [sys.executable, "-c", "\n".join(python)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Ankle boot" in out.stdout
    assert "inverted" in out.stdout
    assert (tmp_path / "runs" / "crnn" / "model.safetensors").is_file()
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", bash[0]],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "examples/images/A.png: 'A'" in out.stdout  # the shipped weights read the sample
    assert (tmp_path / "runs" / "lite" / "model" / "README.md").is_file()
