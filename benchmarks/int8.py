"""int8 against fp32 for shipped variants: accuracy on their held-out data and CPU latency,
side by side, through onnxruntime (one thread, batch 1 and batch 64).

    python benchmarks/int8.py crnn.fashion_mnist --json benchmarks/results/int8.json
    python benchmarks/int8.py lite_resnet.alnum52_48 --alnum52 ~/.cache/alnumzoo/data/alnum52w_48

The float graph is ``alnumzoo.export``'s; the int8 one is ``alnumzoo.deploy.quantize_int8``'s,
calibrated on 512 training images. Accuracy is measured on the variant's held-out split (for
alnum52 variants the wide corpus's heldout split at the model's input size, ``--alnum52``,
without the font families the weights trained on).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from calibrate_shipped import trained_families, unseen

import alnumzoo
from alnumzoo.data import Alnum52Rendered, Cifar10, FashionMNIST, InMemoryImageDataset
from alnumzoo.deploy import quantize_int8

REPO = Path(__file__).resolve().parents[1]
CIFAR_TAR = REPO.parent / "shared" / "data" / "cifar10_jpeg_q75.tar"


def splits(name: str, alnum52: Path | None) -> tuple[InMemoryImageDataset, InMemoryImageDataset]:
    """(calibration source, held-out set) for a variant."""
    kind = alnumzoo.get_model_entry(name).labels
    label = kind.name if kind is not None else ""
    if label == "fashion_mnist":
        return FashionMNIST(split="train"), FashionMNIST(split="test")
    if label == "cifar10":
        return Cifar10(CIFAR_TAR, "train"), Cifar10(CIFAR_TAR, "test")
    if alnum52 is None:
        raise SystemExit(f"{name}: pass --alnum52 DIR (a wide set at the model's input size)")
    heldout = unseen(Alnum52Rendered(alnum52, "heldout"), trained_families(name))
    return Alnum52Rendered(alnum52, "train"), heldout


def measure(path: Path, test: InMemoryImageDataset) -> dict[str, float]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    x = (test.images.float() / 255).numpy()
    predictions = np.concatenate(
        [session.run(["logits"], {"images": x[i : i + 256]})[0].argmax(1)
         for i in range(0, len(x), 256)]
    )  # fmt: skip
    out = {"top1": round(100 * float((predictions == test.targets.numpy()).mean()), 2)}
    for batch in (1, 64):
        sample = x[:batch]
        session.run(["logits"], {"images": sample})
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < 2.0:
            session.run(["logits"], {"images": sample})
            runs += 1
        out[f"ms_batch{batch}"] = round(1000 * (time.perf_counter() - start) / runs, 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+")
    parser.add_argument("--alnum52", type=Path, help="wide alnum52 set at the model's size")
    parser.add_argument("--json", type=Path, help="merge the figures into this file")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    if args.json and args.json.exists():
        results = json.loads(args.json.read_text())
    for name in args.names:
        model = alnumzoo.from_pretrained(name)
        calibration, test = splits(name, args.alnum52)
        with tempfile.TemporaryDirectory() as tmp:
            fp32 = alnumzoo.export(model, Path(tmp) / "fp32.onnx").path
            int8 = quantize_int8(fp32, Path(tmp) / "int8.onnx", calibration)
            results[name] = {
                "fp32": measure(fp32, test),
                "int8": measure(int8, test),
                "images": len(test),
                "command": f"python benchmarks/int8.py {name}"
                + (f" --alnum52 {args.alnum52}" if args.alnum52 else ""),
            }
        print(name, json.dumps(results[name]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
