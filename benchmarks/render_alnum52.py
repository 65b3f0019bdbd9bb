"""Benchmark: render the default alnum52 set (57,200 images) and report throughput.

python benchmarks/render_alnum52.py [--out data/alnum52] [--size 100] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import time

from alnumzoo.data import build_alnum52


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="data/alnum52")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    start = time.perf_counter()
    result = build_alnum52(args.out, size=args.size, workers=args.workers, overwrite=True)
    seconds = time.perf_counter() - start
    n = sum(result.manifest["per_class"].values()) * 52
    fonts = sum(len(v) for v in result.manifest["fonts"].values())
    print(
        f"rendered {n} images of {args.size}x{args.size} from {fonts} font faces in "
        f"{seconds:.1f} s on {args.workers or os.cpu_count()} workers: {n / seconds:.0f} images/s"
    )


if __name__ == "__main__":
    main()
