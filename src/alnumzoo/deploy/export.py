"""export(): a model as an ONNX or TorchScript file, with its preprocessing contract beside it,
checked against the PyTorch model before it is handed back."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from alnumzoo._atomic import atomic_write
from alnumzoo.inference.calibration import CALIBRATION_FORMULA
from alnumzoo.models.base import ZooModel

__all__ = ["ExportFormat", "ExportResult", "export"]

ExportFormat = Literal["onnx", "torchscript"]
#: Largest difference from the PyTorch logits an exported graph may show in the check.
TOLERANCE = 1e-4
_OPSET = 17


@dataclass(frozen=True)
class ExportResult:
    """What [`export`][alnumzoo.deploy.export.export] wrote and how it compared.

    Attributes:
        path: The model file (``.onnx`` or ``.pt``).
        contract: The preprocessing contract written beside it (``<path>.json``).
        max_abs_diff: Largest difference between its logits and the PyTorch model's on a
            check batch, or ``None`` when no runtime was available to check it (ONNX without
            ``onnxruntime``).
    """

    path: Path
    contract: Path
    max_abs_diff: float | None


def export(
    model: ZooModel,
    path: str | Path,
    *,
    format: ExportFormat = "onnx",
    check: bool = True,
) -> ExportResult:
    """Write ``model`` as a graph a runtime without alnumzoo can run.

    The graph takes a float batch ``images`` ``(N, C, H, W)`` in [0, 1] (any batch size) and
    returns ``logits`` ``(N, num_classes)``; a model's own input normalisation is inside the
    graph. Beside it, ``<path>.json`` holds the preprocessing contract (the model's
    ``pretrained_cfg``: size, background, fit, invert, fill), the label names and the
    calibration (``temperature`` and ``undo_smoothing``, with the formula that applies them to
    the logits), so another runtime can prepare images and read probabilities the way
    [`predict`][alnumzoo.inference._predict.predict] does.

    TorchScript files are traced (``torch.jit.trace``), not scripted: the models' Python-side
    metadata (labels, the preprocessing contract) is not TorchScript, and tracing keeps exactly
    the computation. Both formats are checked on a random batch against the PyTorch model
    (ONNX through ``onnxruntime`` when it is installed: ``pip install "alnumzoo[export]"``).

    Raises:
        ValueError: an unknown format, or a model without a fixed input size.
        RuntimeError: the exported graph disagrees with the model by more than `TOLERANCE`.
    """
    if format not in ("onnx", "torchscript"):
        raise ValueError(f"format must be 'onnx' or 'torchscript', got {format!r}")
    if model.input_size is None:
        raise ValueError(f"{type(model).__name__} has no fixed input size to export")
    path = Path(path)
    was_training = model.training
    model.eval()
    example = torch.rand(2, model.in_chans, *model.input_size)
    try:
        with torch.no_grad():
            expected = model(example)
        if format == "onnx":
            _write_onnx(model, example, path)
            diff = _onnx_difference(path, example, expected) if check else None
        else:
            _write_torchscript(model, example, path)
            diff = _torchscript_difference(path, example, expected) if check else None
    finally:
        model.train(was_training)
    if diff is not None and diff > TOLERANCE:
        raise RuntimeError(
            f"the exported {format} graph differs from the model by {diff:.2e} "
            f"(more than {TOLERANCE:.0e}); it was written to {path} for inspection"
        )
    contract = path.with_name(path.name + ".json")
    text = json.dumps(
        {
            "format": format,
            "input": {"name": "images", "shape": ["N", model.in_chans, *model.input_size],
                      "dtype": "float32", "range": [0.0, 1.0]},
            "output": {"name": "logits", "shape": ["N", model.num_classes]},
            "temperature": model.temperature,
            "undo_smoothing": model.undo_smoothing,
            "probabilities": CALIBRATION_FORMULA,
            "labels": list(model.labels.names) if model.labels is not None else None,
            "pretrained_cfg": model.pretrained_cfg,
            "architecture": model.arch,
            "max_abs_diff": diff,
        },
        indent=2,
    )  # fmt: skip
    atomic_write(contract, lambda tmp: tmp.write_text(text))
    return ExportResult(path, contract, diff)


def _write_onnx(model: nn.Module, example: torch.Tensor, path: Path) -> None:
    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            # The TorchScript-based exporter warns that it is the older one; it needs only
            # the onnx package and keeps the graph in one file.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (example,),
                str(tmp),
                input_names=["images"],
                output_names=["logits"],
                dynamic_axes={"images": {0: "N"}, "logits": {0: "N"}},
                opset_version=_OPSET,
                dynamo=False,
            )

    atomic_write(path, write)


def _write_torchscript(model: nn.Module, example: torch.Tensor, path: Path) -> None:
    with warnings.catch_warnings():
        # Tracing warns that Python values (the input-size check) become constants; the
        # check below compares the traced graph with the model on another batch size.
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, example, check_trace=False)  # type: ignore[no-untyped-call]

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            # torch 2.14 marks TorchScript deprecated in favour of torch.export; the format is
            # still what C++ and mobile runtimes load, so it is offered while torch writes it.
            warnings.simplefilter("ignore", FutureWarning)
            torch.jit.save(traced, str(tmp))

    atomic_write(path, write)


def _onnx_difference(path: Path, x: torch.Tensor, expected: torch.Tensor) -> float | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    batch = torch.cat([x, x[:1]])  # another batch size than the one traced
    (logits,) = session.run(["logits"], {"images": batch.numpy()})
    reference = torch.cat([expected, expected[:1]])
    return float((torch.from_numpy(logits) - reference).abs().max())


def _torchscript_difference(path: Path, x: torch.Tensor, expected: torch.Tensor) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        loaded = torch.jit.load(str(path))  # type: ignore[no-untyped-call]
    with torch.no_grad():
        batch = torch.cat([x, x[:1]])
        logits = loaded(batch)
    return float((logits - torch.cat([expected, expected[:1]])).abs().max())
