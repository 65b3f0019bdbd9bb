"""Deployment: models exported as ONNX or TorchScript graphs with their preprocessing contract."""

from alnumzoo.deploy.export import ExportResult, export

__all__ = ["ExportResult", "export"]
