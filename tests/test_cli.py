"""The command line: output, and exit codes 0 (ok), 1 (failure) and 2 (usage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alnumzoo.cli import main


def test_list_and_info(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "crnn*"]) == 0
    out = capsys.readouterr().out
    assert "crnn.fashion_mnist" in out
    assert "209,482" in out
    assert main(["info", "lite_resnet.alnum52"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["num_params"] == 175_124
    assert info["input_size"] == [1, 90, 90]


def test_failures_and_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["info", "no_such_model"]) == 1
    assert "unknown model 'no_such_model'" in capsys.readouterr().err
    assert main(["list", "zzz*"]) == 1
    assert (
        main(["render-alnum52", str(tmp_path), "--fonts", str(tmp_path / "none"), "--quiet"]) == 1
    )
    assert "no usable fonts" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
