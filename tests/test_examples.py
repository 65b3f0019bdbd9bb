"""Every example runs (in its quick mode) so none can rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py"), "--char", "a"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "bottleneck_cnn.alnum52" in result.stdout
    assert "classifying a rendered 'a' (label index 35)" in result.stdout
    assert "efficientnet_b2" in result.stdout
