"""The shipped weights: offline, sha256-verified loading and golden outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from golden_samples import GOLDEN, golden_sample

import alnumzoo
from alnumzoo.models.registry import HubWeights

ZOO = Path(alnumzoo.__file__).parent / "weights" / "zoo.json"
PUBLISHED = json.loads(ZOO.read_text()) if ZOO.exists() else {}


def test_every_published_variant_is_registered_with_its_digest() -> None:
    assert PUBLISHED, "no shipped weights: run benchmarks/publish_weights.py"
    for name, record in PUBLISHED.items():
        entry = alnumzoo.get_model_entry(name)
        assert isinstance(entry.weights, HubWeights)
        assert entry.weights.embedded
        assert entry.weights.sha256 == record["sha256"]
        assert entry.metrics["top1"] == record["top1"]
        assert name in alnumzoo.list_models(pretrained=True)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_golden_outputs(name: str) -> None:
    """Loads offline from the package (sha256-checked) and reproduces the recorded logits."""
    try:
        images, targets = golden_sample(name)
    except (FileNotFoundError, ValueError) as exc:  # data set not installed on this machine
        pytest.skip(f"sample data for {name} unavailable: {exc}")
    model = alnumzoo.from_pretrained(name)
    report = model.load_report
    assert report is not None
    assert report.source == "embedded"
    assert report.verified
    assert report.sha256 == PUBLISHED[name]["sha256"]
    assert not model.training
    # Inputs exactly as the reports' loaders produced them: float in [0, 1], N x C x H x W.
    with torch.no_grad():
        logits = model(images.float() / 255)
    expected = np.load(GOLDEN / f"{name}.npz")["logits"]
    assert np.allclose(logits.numpy(), expected, atol=1e-4, rtol=1e-4)
    accuracy = round(100 * float((logits.argmax(1) == targets).float().mean()), 2)
    assert accuracy == PUBLISHED[name]["golden_top1"]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shipped_file_is_verified_on_load(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tampered package copy is refused, naming both digests."""
    from alnumzoo.hub import resolve

    bundled = resolve.embedded_weights_dir(name)
    fake = tmp_path / name
    fake.mkdir()
    for f in bundled.iterdir():
        (fake / f.name).write_bytes(f.read_bytes())
    data = bytearray((fake / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (fake / "model.safetensors").write_bytes(bytes(data))
    monkeypatch.setattr(resolve, "embedded_weights_dir", lambda n: fake)
    with pytest.raises(alnumzoo.hub.WeightsIntegrityError, match=PUBLISHED[name]["sha256"]):
        alnumzoo.from_pretrained(name)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shipped_config_carries_its_preprocessing_contract(name: str) -> None:
    config = json.loads((ZOO.parent / name / "config.json").read_text())
    model = alnumzoo.from_pretrained(name)
    # The shipped configs are of the first layout: each key they hold is read back as it is.
    record = model.pretrained_cfg
    assert {k: record[k] for k in config["pretrained_cfg"]} == config["pretrained_cfg"]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shipped_weights_carry_the_calibration_their_record_reports(name: str) -> None:
    reported = PUBLISHED[name]["calibration"]
    model = alnumzoo.from_pretrained(name)
    assert model.temperature == pytest.approx(reported["temperature"], abs=5e-5)
    assert model.undo_smoothing == reported["undo_smoothing"]
    # Smoothing is only undone for weights whose recorded recipe smoothed their labels.
    if model.undo_smoothing:
        assert model.record.recipe is not None
        assert model.record.recipe["label_smoothing"] == model.undo_smoothing
    assert reported["ece_after"] <= reported["ece_temperature_only"]
