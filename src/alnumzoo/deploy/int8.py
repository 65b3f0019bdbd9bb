"""int8 models for CPU inference: onnxruntime's static quantization of an exported ONNX graph,
calibrated on real images."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from alnumzoo._atomic import atomic_write
from alnumzoo.data.base import InMemoryImageDataset

__all__ = ["quantize_int8"]


def quantize_int8(
    onnx_path: str | Path,
    out_path: str | Path,
    calibration: InMemoryImageDataset | torch.Tensor,
    *,
    images: int = 512,
    batch_size: int = 64,
) -> Path:
    """Write an int8 copy of an exported float ONNX model (``alnumzoo.export``).

    Weights and activations are quantized per tensor to int8 in the QDQ format, with
    activation ranges measured on ``images`` calibration images (an evenly spaced sample of
    ``calibration``: training images, never the evaluation set). Needs ``onnxruntime``
    (``pip install "alnumzoo[export]"``). Measure the copy before use:
    ``benchmarks/int8.py`` reports accuracy and latency beside the float model.

    Raises:
        ImportError: onnxruntime is not installed.
        ValueError: no calibration images.
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    pixels = calibration.images if isinstance(calibration, InMemoryImageDataset) else calibration
    if len(pixels) == 0:
        raise ValueError("quantize_int8 needs calibration images")
    step = max(1, len(pixels) // images)
    sample = pixels[::step][:images]
    batch = sample.float() / 255 if sample.dtype == torch.uint8 else sample.float()

    class Batches(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.batches: Iterator[dict[str, Any]] = iter(
                {"images": batch[i : i + batch_size].numpy()}
                for i in range(0, len(batch), batch_size)
            )

        def get_next(self) -> dict[str, Any] | None:
            return next(self.batches, None)

    out_path = Path(out_path)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        # Shape inference and graph optimisation first, as onnxruntime recommends.
        quant_pre_process(str(onnx_path), str(prepared), skip_symbolic_shape=True)

        def write(target: Path) -> None:
            quantize_static(
                str(prepared),
                str(target),
                Batches(),
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QInt8,
                weight_type=QuantType.QInt8,
            )

        atomic_write(out_path, write)
    return out_path
