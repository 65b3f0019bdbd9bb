"""Benchmark: training images/s of ``fit()`` against a plain fp32 PyTorch loop, side by side.

For every architecture both use the same model, the default recipe's optimizer and batch size
and the same in-memory data, in one run. The plain loop is the loop a user would write: fp32,
NCHW, forward, backward, step. ``fit()`` runs as it does for a real job (its CPU probe picks
channels-last and bf16 where they measure faster, augmentation and EMA included), with
``max_steps`` so it trains for a fixed number of steps; its rate is the training throughput of
its epoch record, so neither the probe nor the final evaluation counts.

    python benchmarks/throughput.py [--steps 30] [--arch lite_resnet ...] [--json PATH]
    python benchmarks/throughput.py --device cuda --steps 300   # on a GPU: bf16 autocast

On a GPU both loops keep the data on the device and the clock waits for the device
(``torch.cuda.synchronize``) before it is read.

The ``host_overhead`` row measures what ``fit()`` adds around a step, with a model whose compute
is negligible (``Flatten`` + ``Linear(64, 10)`` on 8x8 images, batch 32): the plain loop does the
default recipe's arithmetic (its optimizer, its label-smoothed loss) and nothing else; ``fit()``
adds its loader, EMA, schedule, clock, loss tally and checks. Both alternate ``--repeats`` times
in one run; the row gives the median host time per step and their ratio (target: at most 1.3).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

import alnumzoo
from alnumzoo import fit
from alnumzoo.data import InMemoryImageDataset
from alnumzoo.training import get_recipe
from alnumzoo.training.cpu_speed import cpu_has_native_bf16
from alnumzoo.training.optim import build_optimizer

# (registry name, images in the synthetic set): enough for an epoch longer than the steps.
CASES: dict[str, str] = {
    "bottleneck_cnn": "bottleneck_cnn",
    "lite_resnet": "lite_resnet",
    "lite_resnet_48": "lite_resnet.alnum52_48",
    "crnn": "crnn",
    "crnn_columns_gru": "crnn.columns_gru_fashion_mnist",
    "cifar_cnn": "cifar_cnn",
    "efficientnet_b2": "efficientnet_b2",
}


def synthetic(name: str, n: int) -> InMemoryImageDataset:
    """``n`` random images of the registry entry's input size, with its labels."""
    entry = alnumzoo.get_model_entry(name)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, *entry.input_size), dtype=torch.uint8, generator=generator)
    targets = torch.randint(0, entry.num_classes, (n,), generator=generator)
    labels = entry.labels or alnumzoo.labels.LabelMap(
        "synthetic", tuple(str(i) for i in range(entry.num_classes))
    )
    return InMemoryImageDataset(images, targets, labels)


def _wait(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_loop(
    name: str, data: InMemoryImageDataset, batch: int, steps: int, device: torch.device
) -> float:
    """Images/s of a plain fp32 NCHW loop with the default recipe's optimizer."""
    torch.manual_seed(0)
    model = alnumzoo.create_model(name).train().to(device)
    recipe = get_recipe("default", alnumzoo.get_model_entry(name).arch)
    optimizer = build_optimizer(model, recipe, recipe.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    images, targets = data.images.to(device), data.targets.to(device)

    def step(i: int) -> None:
        rows = torch.arange(i * batch, (i + 1) * batch, device=device) % len(data)
        x = images[rows].float().div_(255)
        loss = loss_fn(model(x), targets[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for i in range(3 if device.type == "cuda" else 1):  # cuDNN picks its kernels on the first
        step(i)
    _wait(device)
    start = time.perf_counter()
    for i in range(1, steps + 1):
        step(i)
    _wait(device)
    return batch * steps / (time.perf_counter() - start)


def fit_rate(
    name: str, data: InMemoryImageDataset, steps: int, device: torch.device
) -> tuple[float, str]:
    """Training images/s of ``fit()`` over ``steps`` steps, and the mode it chose."""
    torch.manual_seed(0)
    model = alnumzoo.create_model(name)
    history = fit(model, data, max_steps=steps + 1, progress=False, device=device)
    mode = history.precision + ("+channels_last" if history.channels_last else "")
    return history.records[-1].images_per_s, mode


def _overhead_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))


def host_overhead(steps: int, repeats: int, device: torch.device) -> dict[str, Any]:
    """Median seconds per step of a plain loop and of ``fit()`` on a negligible model."""
    batch, n = 32, 32 * steps
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 1, 8, 8), dtype=torch.uint8, generator=generator)
    targets = torch.randint(0, 10, (n,), generator=generator)
    labels = alnumzoo.labels.LabelMap("synthetic", tuple(str(i) for i in range(10)))
    data = InMemoryImageDataset(images, targets, labels)
    recipe = get_recipe("default", "sequential")
    on_device = images.to(device), targets.to(device)

    def plain() -> float:
        model = _overhead_model().to(device).train()
        optimizer = build_optimizer(model, recipe, recipe.lr)
        loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
        _wait(device)
        start = time.perf_counter()
        for i in range(steps):
            rows = torch.arange(i * batch, (i + 1) * batch, device=device)
            loss = loss_fn(model(on_device[0][rows].float().div_(255)), on_device[1][rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        _wait(device)
        return (time.perf_counter() - start) / steps

    def fitted() -> float:
        model = _overhead_model()
        history = fit(model, data, epochs=1, batch_size=batch, progress=False, device=device)
        record = history.records[-1]
        return record.train_s / record.step

    plain(), fitted()  # warm-up: allocator, lazy imports, kernels
    plain_s = sorted(plain() for _ in range(repeats))[repeats // 2]
    fit_s = sorted(fitted() for _ in range(repeats))[repeats // 2]
    return {
        "batch": batch,
        "steps": steps,
        "repeats": repeats,
        "plain_us_per_step": round(plain_s * 1e6, 1),
        "fit_us_per_step": round(fit_s * 1e6, 1),
        "ratio": round(fit_s / plain_s, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--arch", nargs="*", choices=sorted(CASES), default=sorted(CASES))
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, ...")
    parser.add_argument("--overhead-steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    machine = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads, native bf16: {cpu_has_native_bf16()}"
    )
    results: dict[str, Any] = {
        "machine": machine,
        "device": str(device),
        "torch": torch.__version__,
        "steps": args.steps,
        "archs": {},
    }
    print(f"{'arch':18s} {'batch':>5s} {'plain img/s':>12s} {'fit img/s':>10s} {'ratio':>6s}  mode")
    for key in args.arch:
        name = CASES[key]
        batch = get_recipe("default", alnumzoo.get_model_entry(name).arch).batch_size
        # A few steps only for the slow 256 px EfficientNet on a CPU.
        slow = key == "efficientnet_b2" and device.type == "cpu"
        steps = max(3, args.steps // 10) if slow else args.steps
        data = synthetic(name, batch * (steps + 4))
        plain = plain_loop(name, data, batch, steps, device)
        fitted, mode = fit_rate(name, data, steps, device)
        ratio = fitted / plain
        results["archs"][key] = {
            "batch": batch,
            "plain_img_s": round(plain, 1),
            "fit_img_s": round(fitted, 1),
            "ratio": round(ratio, 2),
            "fit_mode": mode,
        }
        print(f"{key:18s} {batch:5d} {plain:12.0f} {fitted:10.0f} {ratio:6.2f}  {mode}", flush=True)
    overhead = host_overhead(args.overhead_steps, args.repeats, device)
    results["host_overhead"] = overhead
    print(
        f"{'host_overhead':18s} {overhead['batch']:5d} "
        f"{overhead['plain_us_per_step']:9.0f} us {overhead['fit_us_per_step']:7.0f} us "
        f"{overhead['ratio']:6.2f}  fit/plain host time per step (lower is better)",
        flush=True,
    )
    print(f"machine: {results['machine']}; torch {torch.__version__}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
