"""Temperature scaling: fitted on held-back logits, stored with the weights, applied by predict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import alnumzoo
from alnumzoo.data import InMemoryImageDataset
from alnumzoo.inference import (
    collect_logits,
    expected_calibration_error,
    fit_temperature,
    predict_proba,
)
from alnumzoo.labels import LabelMap


def _overconfident(n: int = 4000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    # Logits drawn at temperature 1 from a known model, then sharpened 3x: the fitted
    # temperature must find the 3 again.
    g = torch.Generator().manual_seed(seed)
    true_logits = torch.randn(n, 5, generator=g) * 1.5
    targets = torch.multinomial(true_logits.softmax(1), 1, generator=g)[:, 0]
    return true_logits * 3.0, targets


def test_fit_temperature_recovers_the_sharpening_and_lowers_ece() -> None:
    logits, targets = _overconfident()
    cal = fit_temperature(logits, targets)
    assert cal.temperature == pytest.approx(3.0, rel=0.1)
    assert cal.nll_after < cal.nll_before
    assert cal.ece_after < 0.03 < cal.ece_before
    # Dividing by a temperature never changes a prediction.
    assert torch.equal((logits / cal.temperature).argmax(1), logits.argmax(1))
    with pytest.raises(ValueError, match="expected logits"):
        fit_temperature(torch.zeros(0, 5), torch.zeros(0, dtype=torch.long))


def test_ece_of_perfectly_calibrated_and_of_overconfident_predictions() -> None:
    probs = torch.tensor([[0.9, 0.1]] * 10)
    targets = torch.tensor([0] * 9 + [1])  # 90% confident, 90% right
    assert expected_calibration_error(probs, targets) == pytest.approx(0.0, abs=1e-6)
    wrong = torch.tensor([1] * 10)
    assert expected_calibration_error(probs, wrong) == pytest.approx(0.9)


def test_temperature_travels_with_the_weights_and_predict_applies_it(tmp_path: Path) -> None:
    labels = LabelMap("toy", ("a", "b", "c"))
    model = alnumzoo.create_model("cifar_cnn", labels=labels).eval()
    x = torch.rand(4, 3, 32, 32)
    logits = model(x)
    model.temperature = 2.5
    torch.testing.assert_close(predict_proba(model, x), (logits / 2.5).softmax(1))
    folder = alnumzoo.save_pretrained(model, tmp_path / "m")
    assert json.loads((folder / "config.json").read_text())["temperature"] == 2.5
    loaded = alnumzoo.from_pretrained(folder)
    assert loaded.temperature == 2.5
    torch.testing.assert_close(predict_proba(loaded, x), predict_proba(model, x))
    # A new head has new logits: the old temperature does not apply to them.
    with pytest.warns(UserWarning, match="head fc3 re-initialised"):
        assert alnumzoo.from_pretrained(folder, labels=["x", "y"]).temperature == 1.0
    config = json.loads((folder / "config.json").read_text())
    for bad in (0.0, -1.0, 1e9, "hot", True):
        config["temperature"] = bad
        (folder / "config.json").write_text(json.dumps(config))
        with pytest.raises(ValueError, match="'temperature' must be a number"):
            alnumzoo.from_pretrained(folder)


def test_collect_logits_matches_the_model() -> None:
    model = alnumzoo.create_model("crnn").eval()
    images = torch.randint(0, 256, (7, 1, 28, 28), dtype=torch.uint8)
    data = InMemoryImageDataset(images, torch.arange(7) % 10, alnumzoo.FASHION_MNIST)
    logits, targets = collect_logits(model, data, batch_size=3)
    torch.testing.assert_close(logits, model(images.float() / 255))
    assert torch.equal(targets, data.targets)
