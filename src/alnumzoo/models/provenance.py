"""LoadReport: where a model's weights came from. Filled by ``alnumzoo.from_pretrained`` and
kept on the model (``model.load_report``), so it is defined beside the models."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LoadReport"]


@dataclass
class LoadReport:
    """Where loaded weights came from and what was changed to fit them.

    Attributes:
        source: ``"local"`` (a folder), ``"embedded"`` (shipped in the package),
            ``"registry"`` (downloaded at the registry's pin), ``"hub"``, or ``"timm"``
            (ImageNet weights timm loads itself; no sha256 is pinned for those).
        location: Folder or repository id.
        revision: The Hub commit the files were read from (resolved from a branch or tag),
            ``None`` for a folder.
        path: The weights file that was read (``None`` for timm's own weights, which timm
            reads from its cache).
        sha256: Its sha256 (verified against the registry's pin where there is one; ``None``
            for timm's weights).
        verified: Whether the sha256 was checked against a pinned value.
        adapted: Human-readable changes (re-initialised head, adapted first conv).
    """

    source: str
    location: str
    revision: str | None
    path: Path | None
    sha256: str | None
    verified: bool
    adapted: list[str] = field(default_factory=list)
