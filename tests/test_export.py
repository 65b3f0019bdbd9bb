"""export(): ONNX and TorchScript graphs that match the models, with their contract beside them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import alnumzoo
from alnumzoo.cli import main
from alnumzoo.inference import predict_proba

ort = pytest.importorskip("onnxruntime")  # the optional 'export' extra; dev installs it
ARCHS = ["bottleneck_cnn", "lite_resnet", "char_resnet", "crnn", "cifar_cnn"]


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_exported_graph_matches_the_model_at_any_batch_size(
    arch: str, fmt: str, tmp_path: Path
) -> None:
    model = alnumzoo.create_model(arch).eval()
    model.temperature, model.undo_smoothing = 1.7, 0.1
    path = tmp_path / f"m.{'onnx' if fmt == 'onnx' else 'pt'}"
    result = alnumzoo.export(model, path, format=fmt)  # type: ignore[arg-type]
    assert result.max_abs_diff is not None
    assert result.max_abs_diff < 1e-4
    x = torch.rand(5, model.in_chans, *model.input_size)
    with torch.no_grad():
        expected = model(x).numpy()
    if fmt == "onnx":
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        (got,) = session.run(["logits"], {"images": x.numpy()})
    else:
        got = torch.jit.load(str(path))(x).detach().numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4)
    contract = json.loads(result.contract.read_text())
    assert contract["pretrained_cfg"] == model.pretrained_cfg
    assert (contract["temperature"], contract["undo_smoothing"]) == (1.7, 0.1)
    # Another runtime follows the contract's formula to the probabilities predict gives.
    probs = np.exp(got - got.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    scores = np.log(np.maximum((probs - 0.1 / model.num_classes) / 0.9, 1e-4)) / 1.7
    expected_probs = np.exp(scores - scores.max(1, keepdims=True))
    expected_probs /= expected_probs.sum(1, keepdims=True)
    assert "1e-4" in contract["probabilities"] or "0.0001" in contract["probabilities"]
    np.testing.assert_allclose(expected_probs, predict_proba(model, x).numpy(), atol=1e-4)
    assert contract["input"]["shape"] == ["N", model.in_chans, *model.input_size]
    assert contract["labels"] == list(model.labels.names)


def test_export_errors_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="format must be"):
        alnumzoo.export(alnumzoo.create_model("crnn"), tmp_path / "x", format="tflite")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no fixed input size"):
        alnumzoo.export(alnumzoo.create_model("efficientnet_b2"), tmp_path / "x.onnx")
    out = tmp_path / "fm.onnx"
    assert main(["export", "crnn.fashion_mnist", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "matches the PyTorch model to" in printed
    assert out.is_file()
    assert json.loads(Path(str(out) + ".json").read_text())["architecture"] == "crnn"


def test_int8_copy_keeps_the_accuracy_of_the_float_graph(tmp_path: Path) -> None:
    from _tiny import tiny_cifar

    from alnumzoo.deploy import quantize_int8
    from alnumzoo.training import get_recipe

    model = alnumzoo.create_model("cifar_cnn")
    # Augmented although the run is short: 320 images are memorised in four passes without it.
    augmenting = get_recipe("default", "cifar_cnn").with_overrides(augment_min_epochs=0)
    alnumzoo.fit(model, tiny_cifar(320), epochs=4, batch_size=32, recipe=augmenting,
                 progress=False)  # fmt: skip
    alnumzoo.export(model, tmp_path / "f.onnx")
    quantize_int8(tmp_path / "f.onnx", tmp_path / "q.onnx", tiny_cifar(320), images=128)
    test = tiny_cifar(200, seed=3)
    x = (test.images.float() / 255).numpy()
    accuracy = {}
    for name in ("f", "q"):
        session = ort.InferenceSession(str(tmp_path / f"{name}.onnx"))
        (logits,) = session.run(["logits"], {"images": x})
        accuracy[name] = float((logits.argmax(1) == test.targets.numpy()).mean())
    assert accuracy["f"] >= 0.9
    assert accuracy["q"] >= accuracy["f"] - 0.05
    quantized = (tmp_path / "q.onnx").read_bytes()
    assert b"QuantizeLinear" in quantized
    with pytest.raises(ValueError, match="needs calibration images"):
        quantize_int8(tmp_path / "f.onnx", tmp_path / "z.onnx", torch.zeros(0, 3, 32, 32))
