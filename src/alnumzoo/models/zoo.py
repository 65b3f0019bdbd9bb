"""How an architecture's file registers it and its variants, and the shipped weights that
complete a variant: every measured result and the sha256 pins come from
``alnumzoo/weights/zoo.json``, written by ``benchmarks/publish_weights.py``.

An architecture's module holds its class and one
[`register_architecture`][alnumzoo.models.zoo.register_architecture] call naming its
variants, so adding a model is a one-file change: the registry, ``alnumzoo.create_model``,
``save_pretrained``/``from_pretrained``, the zoo page and timm all read the registry.
Parameter counts are literals, so listing the zoo builds nothing; a test checks each against
the built model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from alnumzoo.models.registry import HubWeights, ModelEntry, TimmPretrained, register_model

__all__ = ["HUB_ORG", "Variant", "register_architecture"]

#: Hub organisation the shipped variants are (to be) uploaded to.
HUB_ORG = "alnumzoo"

_RESULT_KEYS = ("top1", "top1_tta", "mflops", "cpu_img_s")
#: A release record's keys that describe the files or the entry itself; every other key is a
#: fact about the training run and goes into the entry's ``training``, none dropped.
_RELEASE_KEYS = frozenset({
    "arch", "name", "sha256", "config_sha256", "hub_revision", "kwargs", "params", "input_size",
    "golden_top1",
})  # fmt: skip


def _load_published() -> dict[str, dict[str, Any]]:
    path = Path(__file__).resolve().parent.parent / "weights" / "zoo.json"
    if not path.is_file():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return data


_PUBLISHED = _load_published()


@dataclass(frozen=True)
class Variant:
    """A named variant of an architecture (``arch.tag``): its own parameter count and
    description, and what differs from the architecture's entry.

    Attributes:
        tag: The part after the dot.
        params: Parameter count of the variant's build.
        description: One-line summary.
        kwargs: Constructor arguments the variant applies.
        input_size: ``(C, H, W)``, when it differs from the architecture's.
        task: What it classifies, when it differs.
        report_top1: The report's accuracy, when it differs.
        weights: Weights timm loads itself; shipped weights need no entry here (their
            release in ``zoo.json`` supplies them).
    """

    tag: str
    params: int
    description: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    input_size: tuple[int, int, int] | None = None
    task: str | None = None
    report_top1: float | None = None
    weights: TimmPretrained | None = None


def register_architecture(architecture: ModelEntry, *variants: Variant) -> None:
    """Register ``architecture`` (its entry names the bare architecture) and each variant,
    which shares everything the architecture's entry says unless it says otherwise; entries
    with a release in ``zoo.json`` get its results, training facts and sha256 pins."""
    register_model(_released(architecture))
    report = architecture.metrics.get("report_top1")
    for variant in variants:
        top1 = variant.report_top1 or report
        register_model(
            _released(
                replace(
                    architecture,
                    name=f"{architecture.name}.{variant.tag}",
                    task=variant.task or architecture.task,
                    input_size=variant.input_size or architecture.input_size,
                    num_params=variant.params,
                    description=variant.description,
                    kwargs=dict(variant.kwargs),
                    metrics={"report_top1": top1} if top1 is not None else {},
                    weights=variant.weights,
                )
            )
        )


def _released(entry: ModelEntry) -> ModelEntry:
    release = _PUBLISHED.get(entry.name)
    if release is None:
        return entry
    return replace(
        entry,
        metrics={**entry.metrics, **{k: release[k] for k in _RESULT_KEYS}},
        training={
            k: v for k, v in release.items() if k not in _RELEASE_KEYS and k not in _RESULT_KEYS
        },
        # "hub_revision" is recorded once the folder is uploaded (scripts/push_weights.sh).
        weights=HubWeights(
            f"{HUB_ORG}/{entry.name}",
            release.get("hub_revision", "main"),
            release["sha256"],
            embedded=True,
            config_sha256=release.get("config_sha256"),
        ),
        kwargs=release.get("kwargs") or entry.kwargs,
    )
