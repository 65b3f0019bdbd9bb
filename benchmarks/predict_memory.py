"""Benchmark: does ``alnumzoo predict`` over a folder stream, with memory that does not grow with
the folder?

    python benchmarks/predict_memory.py [--counts 500 5000] \
        [--json benchmarks/results/predict_memory.json]

For each count, writes that many small PNGs (28x28 greyscale, distinct noise) into a temporary
folder, runs ``alnumzoo predict crnn.fashion_mnist FOLDER`` as its own process and reports
the peak resident memory of that process (``wait4``'s ``ru_maxrss``), the seconds from start to
the first printed line and to the last. Targets (issue 24): peak RSS of the largest count within
20% of the smallest's, first line within 2 s of the model being ready. Python and torch start-up
is part of every row, so it is measured alone as the ``start-up`` row and the first-line time
is reported both raw and after it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

CLI = [sys.executable, "-c", "import sys; from alnumzoo.cli import main; sys.exit(main())"]


def _write_images(folder: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, (28, 28), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:05d}.png")


def _run(args: list[str]) -> dict[str, Any]:
    """Run the CLI with ``args``; peak RSS (MiB), seconds to the first and last line, lines."""
    start = time.perf_counter()
    proc = subprocess.Popen(CLI + args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first: float | None = None
    lines = 0
    for _ in proc.stdout:
        if first is None:
            first = time.perf_counter() - start
        lines += 1
    _, status, usage = os.wait4(proc.pid, 0)
    end = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"alnumzoo {' '.join(args)} failed")
    return {
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "first_line_s": round(first if first is not None else end, 2),
        "total_s": round(end, 2),
        "lines": lines,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--model", default="crnn.fashion_mnist")
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    args = parser.parse_args(argv)
    # The same process start and model load, on one image: what every row pays before predicting.
    rows: dict[str, dict[str, Any]] = {}
    work = Path(tempfile.mkdtemp(prefix="predict_memory_"))
    try:
        one = work / "one"
        one.mkdir()
        _write_images(one, 1)
        rows["start-up"] = _run(["predict", args.model, str(one / "00000.png")])
        for count in args.counts:
            folder = work / str(count)
            folder.mkdir()
            _write_images(folder, count)
            rows[str(count)] = _run(["predict", args.model, str(folder)])
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = rows["start-up"]["first_line_s"]
    print(f"{'files':>8s} {'peak RSS MiB':>12s} {'first line s':>12s} {'after start-up':>14s} "
          f"{'total s':>8s}")
    for name, row in rows.items():
        row["first_line_after_startup_s"] = round(row["first_line_s"] - base, 2)
        print(f"{name:>8s} {row['peak_rss_mib']:12.1f} {row['first_line_s']:12.2f} "
              f"{row['first_line_after_startup_s']:14.2f} {row['total_s']:8.2f}")
    sizes = [str(c) for c in args.counts]
    growth = rows[sizes[-1]]["peak_rss_mib"] / rows[sizes[0]]["peak_rss_mib"] - 1
    print(f"peak RSS growth {sizes[0]} -> {sizes[-1]} files: {growth:+.1%}")
    if args.json:
        args.json.write_text(json.dumps({
            "model": args.model, "rows": rows, "rss_growth": round(growth, 4),
            "machine": platform.machine(), "python": platform.python_version(),
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
