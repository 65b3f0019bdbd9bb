"""Deployment: models exported as ONNX or TorchScript graphs with their preprocessing contract."""

from alnumzoo.deploy.export import ExportResult, export
from alnumzoo.deploy.int8 import quantize_int8

__all__ = ["ExportResult", "export", "quantize_int8"]
