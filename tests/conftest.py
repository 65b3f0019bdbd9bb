"""Shared test settings: deterministic, CPU-only, no network."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# The CPU probe's decisions are not written to the user's cache by tests (a test that checks
# the disk cache points it at its own folder).
os.environ["ALNUMZOO_CPU_PROBE_CACHE"] = ""


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
