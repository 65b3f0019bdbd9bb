"""Benchmark: DeviceLoader vs a standard DataLoader with per-sample transforms, side by side.

Both produce augmented float batches (random affine: translate, scale, rotate) of the same
data on the CPU; the ratio of their images/s is what matters.

    python benchmarks/loader_throughput.py [--data fashion|alnum52] [--batch 512] [--epochs 1]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch.utils.data import DataLoader
from torchvision.transforms import v2

from alnumzoo.data import (
    AUGMENT_PRESETS,
    Alnum52Rendered,
    DeviceLoader,
    FashionMNIST,
    InMemoryImageDataset,
)


def _time(loader: object, epochs: int) -> tuple[float, int]:
    n = 0
    start = time.perf_counter()
    for _ in range(epochs):
        for x, _y in loader:  # type: ignore[attr-defined]
            n += x.shape[0]
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", choices=["fashion", "alnum52"], default="fashion")
    parser.add_argument("--alnum52-root", default="data/alnum52")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)

    data: InMemoryImageDataset
    if args.data == "fashion":
        data, preset = FashionMNIST(split="train"), AUGMENT_PRESETS["fashion_mnist"]
    else:
        data, preset = Alnum52Rendered(args.alnum52_root, "train"), AUGMENT_PRESETS["alnum52"]
    per_sample = v2.RandomAffine(
        degrees=preset.rotate or 6.0,
        translate=(preset.translate, preset.translate),
        scale=preset.scale,
        fill=preset.fill,
    )
    data.transform = per_sample
    standard = DataLoader(
        data, batch_size=args.batch, shuffle=True, num_workers=args.workers,
        persistent_workers=args.workers > 0,
    )  # fmt: skip
    _time(standard, 1) if args.epochs > 1 else None  # warm workers when timing several epochs
    std_s, std_n = _time(standard, args.epochs)
    data.transform = None
    fast = DeviceLoader(data, args.batch, augment=preset, device="cpu")
    fast_s, fast_n = _time(fast, args.epochs)
    print(
        f"data: {args.data}, {len(data)} images {tuple(data.images.shape[1:])}, batch {args.batch}"
    )
    print(
        f"DataLoader + per-sample RandomAffine ({args.workers} workers): {std_n / std_s:9.0f} img/s"
    )
    print(f"DeviceLoader + batched affine grid (cpu):          {fast_n / fast_s:9.0f} img/s")
    print(f"speed-up: {std_s / std_n * fast_n / fast_s:.1f}x")


if __name__ == "__main__":
    main()
