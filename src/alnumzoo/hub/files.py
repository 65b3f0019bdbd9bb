"""Checksums of weight files."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["WeightsIntegrityError", "sha256_file", "verify_sha256"]


class WeightsIntegrityError(RuntimeError):
    """A weights file does not have the sha256 it was registered with."""


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: str | Path, expected: str) -> str:
    """Return the file's sha256; raise
    [`WeightsIntegrityError`][alnumzoo.hub.files.WeightsIntegrityError] unless it is
    ``expected``."""
    actual = sha256_file(path)
    if actual != expected.lower():
        raise WeightsIntegrityError(
            f"sha256 mismatch for {path}: expected {expected.lower()}, got {actual}. The file "
            "is corrupt or was replaced; delete it (or its Hugging Face cache entry) and download "
            "it again"
        )
    return actual
