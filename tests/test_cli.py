"""The command line: output, and exit codes 0 (ok), 1 (failure) and 2 (usage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

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


def _cifar_tree(root: Path, per_class: int) -> Path:
    """A CIFAR-10 image-folder tree of solid-colour JPEGs (learnable, tiny)."""
    from PIL import Image

    import alnumzoo

    for split in ("train", "test"):
        for c, name in enumerate(alnumzoo.CIFAR10.names):
            folder = root / split / name
            folder.mkdir(parents=True)
            colour = ((c * 53) % 256, (c * 97) % 256, (c * 151) % 256)
            for i in range(per_class):
                Image.new("RGB", (32, 32), colour).save(folder / f"{i:04d}.jpg", quality=95)
    return root


def test_train_evaluate_predict_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = f"cifar10:{_cifar_tree(tmp_path / 'cifar', per_class=6)}"
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "cifar_cnn",
            "--data",
            data,
            "--epochs",
            "2",
            "--batch-size",
            "16",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "trained cifar_cnn with the default recipe on cpu (fp32)" in printed
    assert "evaluating the test split (60 images) outside the budget; --no-test" in printed
    assert "test top-1" in printed
    assert (out / "checkpoint.pt").is_file()
    assert (out / "history.csv").read_text().startswith("epoch,")
    assert (out / "model" / "model.safetensors").is_file()
    # The card states the values trained with: batch 16 from the command line.
    card = (out / "model" / "README.md").read_text()
    assert "`default` recipe of `alnumzoo.fit` (SGD lr " in card
    assert ", batch 16, Nesterov momentum 0.9, " in card

    assert main(["evaluate", str(out / "model"), "--data", data, "--tta", "none"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert "(test, 60 images): top-1" in line

    image = tmp_path / "cifar" / "test" / "cat" / "0000.jpg"
    assert main(["predict", str(out / "model"), str(image), "--topk", "2", "--json"]) == 0
    (pred,) = json.loads(capsys.readouterr().out)
    assert pred["source"] == image.as_posix()
    assert len(pred["topk"]) == 2
    assert pred["label"] in __import__("alnumzoo").CIFAR10.names

    # Fine-tuning from the trained weights: announced, at the fine-tuning rates, never worse.
    tuned = str(tmp_path / "tuned")
    code = main(["train", "cifar_cnn", "--data", data, "--epochs", "1", "--batch-size", "16",
                 "--init", str(out / "model"), "--out", tuned, "--quiet"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert f"starting from the weights of {out / 'model'}" in printed
    assert "with the default+fine-tune recipe" in printed
    assert f"fine-tuned from {out / 'model'}" in printed
    assert main(["train", "crnn", "--data", data, "--init", str(out / "model"),
                 "--out", str(tmp_path / "x"), "--quiet"]) == 1  # fmt: skip
    assert "holds a cifar_cnn, not a crnn" in capsys.readouterr().err


def test_predict_reports_conversions_and_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    import alnumzoo

    folder = alnumzoo.save_pretrained(alnumzoo.BottleneckCNN(), tmp_path / "m")
    Image.new("RGB", (50, 40), "white").save(tmp_path / "glyph.png")
    assert main(["predict", str(folder), str(tmp_path / "glyph.png")]) == 0
    out = capsys.readouterr().out
    assert "note: converted RGB to grayscale" in out
    assert "note: resized 50x40 to 100x80 and padded to 100x100" in out
    (tmp_path / "bad.png").write_text("nope")
    assert main(["predict", str(folder), str(tmp_path / "bad.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("alnumzoo predict: error: cannot read")
    assert len(err.splitlines()) == 1
    assert main(["evaluate", str(folder), "--data", "mnist"]) == 1
    assert "unknown data set 'mnist'" in capsys.readouterr().err
    assert main(["push", str(tmp_path / "missing"), "org/name"]) == 1


@pytest.mark.parametrize(
    "command", ["list", "info", "predict", "train", "evaluate", "render-alnum52", "push"]
)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage: alnumzoo " + command in capsys.readouterr().out


def test_missing_required_option_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["train", "crnn"])
    assert exc.value.code == 2


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import alnumzoo

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"alnumzoo {alnumzoo.__version__}"


def test_broken_pipe_is_quiet() -> None:
    import subprocess
    import sys

    # `alnumzoo list | head -1`: the reader goes away before the listing is written.
    proc = subprocess.Popen(
        [sys.executable, "-m", "alnumzoo.cli", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert b"Traceback" not in err
    assert b"BrokenPipeError" not in err


def test_warnings_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import alnumzoo

    alnumzoo.save_pretrained(alnumzoo.create_model("crnn"), tmp_path / "crnn.fashion_mnist")
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["info", "crnn.fashion_mnist"]) == 0
        (tmp_path / "x.png").write_bytes(b"")
        main(["predict", "crnn.fashion_mnist", "x.png"])
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err.strip().splitlines()
    warning = [line for line in err if "warning:" in line]
    assert warning == [
        "alnumzoo predict: warning: a folder ./crnn.fashion_mnist exists here, but "
        "'crnn.fashion_mnist' is a registry name and loads the registry's pinned weights; "
        "pass './crnn.fashion_mnist' to load the folder"
    ]
    assert not any(line.startswith("  ") for line in err)  # no source lines



def test_train_with_a_seed_is_bit_identical(tmp_path: Path) -> None:
    """Two seeded CLI runs in one process give the same weights, bit for bit."""
    from safetensors.torch import load_file

    data = f"cifar10:{_cifar_tree(tmp_path / 'cifar', per_class=4)}"
    weights = []
    for run in ("a", "b"):
        out = tmp_path / run
        args = ["train", "cifar_cnn", "--data", data, "--epochs", "1", "--batch-size", "8",
                "--seed", "3", "--threads", "1", "--out", str(out), "--quiet"]  # fmt: skip
        assert main(args) == 0
        weights.append(load_file(str(out / "model" / "model.safetensors")))
    for key, value in weights[0].items():
        assert torch.equal(value, weights[1][key]), key


def test_interrupted_train_says_how_to_continue_in_cli_syntax(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import sys
    import threading

    data = f"cifar10:{_cifar_tree(tmp_path / 'cifar', per_class=6)}"
    out = tmp_path / "run"
    argv = ["train", "cifar_cnn", "--data", data, "--budget", "60s", "--out", str(out), "--quiet"]
    monkeypatch.setattr(sys, "argv", ["alnumzoo", *argv])
    timer = threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        assert main(argv) == 1
    finally:
        timer.cancel()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "alnumzoo train: interrupted at step" in err[0]
    assert f"continue with: alnumzoo {' '.join(argv)} --resume" in err[0]
    assert "resume=" not in err[0]
    assert (out / "checkpoint.pt").is_file()


def test_train_can_skip_the_test_evaluation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = f"cifar10:{_cifar_tree(tmp_path / 'cifar', per_class=4)}"
    out = tmp_path / "run"
    args = ["train", "cifar_cnn", "--data", data, "--epochs", "1", "--out", str(out), "--quiet"]
    assert main([*args, "--no-test"]) == 0
    printed = capsys.readouterr().out
    assert "test evaluation skipped (--no-test)" in printed
    assert "test top-1" not in printed
    assert (out / "model" / "model.safetensors").is_file()
