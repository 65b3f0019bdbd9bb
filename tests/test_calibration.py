"""Calibration: a temperature (after undoing label smoothing) fitted on held-back logits, stored
with the weights, applied by predict."""

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
from alnumzoo.inference.calibration import PROBABILITY_FLOOR, calibrated_probabilities
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


def _smoothed(
    n: int = 20000, k: int = 10, smoothing: float = 0.1, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # What a model trained with label smoothing converges to: it predicts the smoothed target
    # (1 - s) p + s / K of the true class probabilities p, so it is never sure of anything.
    g = torch.Generator().manual_seed(seed)
    true_logits = torch.randn(n, k, generator=g) * torch.rand(n, 1, generator=g) * 6
    p = true_logits.softmax(1)
    targets = torch.multinomial(p, 1, generator=g)[:, 0]
    return ((1 - smoothing) * p + smoothing / k).log(), targets, p


def test_undoing_label_smoothing_calibrates_what_a_temperature_alone_cannot() -> None:
    logits, targets, true_probs = _smoothed()
    fit, held = slice(0, 10000), slice(10000, None)
    plain = fit_temperature(logits[fit], targets[fit])
    undone = fit_temperature(logits[fit], targets[fit], undo_smoothing=0.1)
    assert undone.undo_smoothing == 0.1
    # The smoothing is the whole miscalibration here: once it is taken out, T stays near 1.
    assert undone.temperature == pytest.approx(1.0, abs=0.1)

    def ece(cal: object) -> float:
        probs = calibrated_probabilities(
            logits[held], cal.temperature, cal.undo_smoothing  # type: ignore[attr-defined]
        )
        return expected_calibration_error(probs, targets[held])

    # ECE of 10,000 draws is never 0: the true probabilities themselves score about 1.3%.
    floor = expected_calibration_error(true_probs[held], targets[held])
    assert ece(undone) < floor + 0.005 < ece(plain)
    assert undone.nll_after < plain.nll_after
    probs = calibrated_probabilities(logits, undone.temperature, 0.1)
    assert torch.equal(probs.argmax(1), logits.argmax(1))
    torch.testing.assert_close(probs.sum(1), torch.ones(len(logits)))
    # A class the smoothed model rated below s / K keeps about the floor, not probability 0.
    lowest = float(calibrated_probabilities(torch.tensor([[9.0, 0.0, -9.0]]), 1.0, 0.3).min())
    assert PROBABILITY_FLOOR / 2 < lowest <= PROBABILITY_FLOOR
    with pytest.raises(ValueError, match="undo_smoothing must be in"):
        fit_temperature(logits, targets, undo_smoothing=0.7)


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
    model.undo_smoothing = 0.1
    undone = (((logits.softmax(1) - 0.1 / 3) / 0.9).clamp(min=PROBABILITY_FLOOR).log() / 2.5)
    torch.testing.assert_close(predict_proba(model, x), undone.softmax(1))
    torch.testing.assert_close(
        predict_proba(model, x, "flip"),
        (predict_proba(model, x) + predict_proba(model, x.flip(-1))) / 2,
    )
    folder = alnumzoo.save_pretrained(model, tmp_path / "m")
    saved = json.loads((folder / "config.json").read_text())
    assert (saved["temperature"], saved["undo_smoothing"]) == (2.5, 0.1)
    loaded = alnumzoo.from_pretrained(folder)
    assert (loaded.temperature, loaded.undo_smoothing) == (2.5, 0.1)
    torch.testing.assert_close(predict_proba(loaded, x), predict_proba(model, x))
    # A new head has new logits: the old calibration does not apply to them.
    with pytest.warns(UserWarning, match="head fc3 re-initialised"):
        fresh = alnumzoo.from_pretrained(folder, labels=["x", "y"])
    assert (fresh.temperature, fresh.undo_smoothing) == (1.0, 0.0)
    config = json.loads((folder / "config.json").read_text())
    for key, bad in [("temperature", b) for b in (0.0, -1.0, 1e9, "hot", True)] + [
        ("undo_smoothing", b) for b in (-0.1, 0.5, 1.0, "0.1", False, None)
    ]:
        (folder / "config.json").write_text(json.dumps({**config, key: bad}))
        with pytest.raises(ValueError, match=f"'{key}' must be a number"):
            alnumzoo.from_pretrained(folder)
    # Configs written before undo_smoothing existed load without it.
    del config["undo_smoothing"]
    (folder / "config.json").write_text(json.dumps(config))
    assert alnumzoo.from_pretrained(folder).undo_smoothing == 0.0


def test_collect_logits_matches_the_model() -> None:
    model = alnumzoo.create_model("crnn").eval()
    images = torch.randint(0, 256, (7, 1, 28, 28), dtype=torch.uint8)
    data = InMemoryImageDataset(images, torch.arange(7) % 10, alnumzoo.FASHION_MNIST)
    logits, targets = collect_logits(model, data, batch_size=3)
    torch.testing.assert_close(logits, model(images.float() / 255))
    assert torch.equal(targets, data.targets)
