"""The CPU speed probe: what it measures, what it leaves alone, and how fit() uses it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from _tiny import tiny_cifar

import alnumzoo
from alnumzoo import fit
from alnumzoo.training import cpu_speed, get_recipe, load_checkpoint, loop
from alnumzoo.training.cpu_speed import CpuExecution, cpu_has_native_bf16, probe_cpu_execution


def _batch(n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.rand(n, 3, 32, 32), torch.randint(0, 10, (n,))


def test_probe_measures_every_candidate_without_touching_model_or_rng() -> None:
    torch.manual_seed(0)
    model = alnumzoo.create_model("cifar_cnn")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = _batch()
    rng = torch.get_rng_state()
    cpu_speed._cache.clear()
    chosen = probe_cpu_execution(model, x, y)
    expected = {"fp32", "fp32+channels_last"}
    if cpu_has_native_bf16():
        expected |= {"bf16", "bf16+channels_last"}
    assert set(chosen.images_per_s) == expected
    assert all(rate > 0 for rate in chosen.images_per_s.values())
    assert chosen.name in expected
    # The winner is the fastest, or plain fp32 when nothing beats it by the margin.
    best = max(chosen.images_per_s.values())
    assert chosen.images_per_s[chosen.name] == best or chosen.name == "fp32"
    assert torch.equal(torch.get_rng_state(), rng)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
        assert v.is_contiguous(), k
    assert probe_cpu_execution(model, x, y) is chosen  # remembered for the process


def test_probe_respects_forced_settings() -> None:
    model = alnumzoo.create_model("cifar_cnn")
    x, y = _batch()
    forced = probe_cpu_execution(model, x, y, channels_last=True, bf16=False)
    assert forced == CpuExecution(channels_last=True, autocast_dtype=None)
    only_format = probe_cpu_execution(model, x, y, bf16=False)
    assert set(only_format.images_per_s) == {"fp32", "fp32+channels_last"}


def test_native_bf16_check_matches_cpu_flags() -> None:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    if not flags:
        pytest.skip("no /proc/cpuinfo on this system")
    has = " avx512_bf16" in flags or " amx_bf16" in flags
    assert cpu_has_native_bf16() is has


def test_fit_records_the_probe_and_resume_keeps_its_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force a deterministic probe result so the test does not depend on this CPU's timing.
    calls: list[int] = []

    def fake_probe(
        model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, **kw: object
    ) -> CpuExecution:
        calls.append(x.shape[0])
        return CpuExecution(True, None, {"fp32": 1.0, "fp32+channels_last": 2.0})

    monkeypatch.setattr(cpu_speed, "probe_cpu_execution", fake_probe)
    ck = tmp_path / "run.pt"
    torch.manual_seed(0)
    model = alnumzoo.create_model("cifar_cnn")
    history = fit(
        model, tiny_cifar(64), epochs=400, batch_size=32, checkpoint=ck, max_steps=2,
        progress=False,
    )  # fmt: skip
    assert calls == [32]  # one probe, on a batch of the run's size
    assert history.channels_last
    assert history.precision == "fp32"
    assert history.cpu_probe == {"fp32": 1.0, "fp32+channels_last": 2.0}
    assert load_checkpoint(ck)["execution"] == {"channels_last": True, "precision": "fp32"}
    # Weights come back in the standard layout, so safetensors can save them.
    assert all(v.is_contiguous() for v in model.state_dict().values())
    resumed = fit(
        model, tiny_cifar(64), epochs=400, batch_size=32, checkpoint=ck, resume=True,
        max_steps=3, progress=False,
    )  # fmt: skip
    assert calls == [32]  # the checkpoint's choice is kept, not re-measured
    assert resumed.channels_last


def test_short_runs_skip_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> CpuExecution:
        raise AssertionError("a short run must not pay for the probe")

    monkeypatch.setattr(cpu_speed, "probe_cpu_execution", fail)
    history = fit(alnumzoo.create_model("cifar_cnn"), tiny_cifar(64), epochs=1, progress=False)
    assert history.precision == "fp32"
    assert not history.channels_last


def test_probe_decision_is_remembered_on_disk_across_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "probe.json"
    monkeypatch.setenv("ALNUMZOO_CPU_PROBE_CACHE", str(cache))
    model = alnumzoo.create_model("cifar_cnn")
    x, y = _batch()
    cpu_speed._cache.clear()
    first = probe_cpu_execution(model, x, y)
    assert cache.is_file()
    cpu_speed._cache.clear()  # as in a new process
    monkeypatch.setattr(cpu_speed, "_steps_per_second", _must_not_measure)
    again = probe_cpu_execution(model, x, y)
    assert again == first
    cache.write_text("{not json")  # a damaged cache is measured again, not an error
    cpu_speed._cache.clear()
    monkeypatch.undo()
    monkeypatch.setenv("ALNUMZOO_CPU_PROBE_CACHE", str(cache))
    assert probe_cpu_execution(model, x, y).images_per_s
    assert json.loads(cache.read_text())


def _must_not_measure(*args: object, **kwargs: object) -> float:
    raise AssertionError("the remembered decision should have been used")


def test_a_resumed_budget_run_keeps_its_augmentation_decision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The probe's rate plans 120 s x 2 img/s = 240 images, under 4 passes over the 64: too
    # short for a recipe that augments from 10 passes. A resumed run does not probe again, so
    # it must not take its missing rate for a run of unknown length, which augments.
    def fake_probe(
        model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, **kw: object
    ) -> CpuExecution:
        return CpuExecution(False, None, {"fp32": 2.0})

    trained_with: list[object] = []

    def spy_loader(*args: Any, **kwargs: Any) -> Any:
        if kwargs["train"]:
            trained_with.append(kwargs["augment"])
        return make_loader(*args, **kwargs)

    make_loader = loop.make_loader
    monkeypatch.setattr(loop, "make_loader", spy_loader)
    monkeypatch.setattr(cpu_speed, "probe_cpu_execution", fake_probe)
    recipe = get_recipe("default", "cifar_cnn").with_overrides(augment_min_epochs=10)
    ck = tmp_path / "run.pt"
    model = alnumzoo.create_model("cifar_cnn")
    first = fit(model, tiny_cifar(64), budget=120, batch_size=32, recipe=recipe, checkpoint=ck,
                max_steps=2, progress=False)  # fmt: skip
    assert first.augment is None
    resumed = fit(model, tiny_cifar(64), budget=120, batch_size=32, recipe=recipe, checkpoint=ck,
                  resume=True, max_steps=4, progress=False)  # fmt: skip
    assert resumed.augment is None
    assert trained_with == [None, None]
