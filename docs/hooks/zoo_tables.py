"""mkdocs hook: fill the Model zoo page's tables from the registry at build time, so the docs
can never disagree with ``alnumzoo.list_models()`` and ``alnumzoo/weights/zoo.json``."""

from __future__ import annotations

from typing import Any

import alnumzoo


def _results_table() -> str:
    rows = [
        "| variant | params | MFLOPs/img | CPU img/s | top-1 | top-1 TTA | report top-1 "
        "| held-out split | trained | sha256 |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for name in alnumzoo.list_models(pretrained=True):
        e = alnumzoo.get_model_entry(name)
        if "top1" not in e.metrics:
            continue
        t = e.training
        sha = getattr(e.weights, "sha256", "")
        rows.append(
            f"| `{name}` | {e.num_params:,} | {e.metrics['mflops']:.1f} "
            f"| {e.metrics['cpu_img_s']:,.0f} | **{e.metrics['top1']:.2f}** "
            f"| {e.metrics['top1_tta']:.2f} ({t.get('tta')}) | {e.metrics['report_top1']:.2f} "
            f"| {t.get('held_out')}, {t.get('num_samples', 0):,} images "
            f"| {t.get('recipe')} recipe, {t.get('budget')} budget, {t.get('device')} "
            f"({t.get('threads')} thread{'s' if t.get('threads') != 1 else ''}) "
            f"| `{sha[:12]}…` |"
        )
    if len(rows) == 2:
        return "No weights are shipped in this build."
    return "\n".join(rows)


def _architectures_table() -> str:
    rows = [
        "| name | task | input | classes | params | weights | source |",
        "|---|---|---|---:|---:|---|---|",
    ]
    for name in alnumzoo.list_models():
        e = alnumzoo.get_model_entry(name)
        kind = type(e.weights).__name__ if e.weights is not None else "-"
        label = {"HubWeights": "shipped + Hub", "TimmPretrained": "timm ImageNet"}.get(kind, kind)
        rows.append(
            f"| `{name}` | {e.task} | {'x'.join(map(str, e.input_size))} | {e.num_classes} "
            f"| {e.num_params:,} | {label} | {e.source} |"
        )
    return "\n".join(rows)


def _commands() -> str:
    lines = []
    for name in alnumzoo.list_models(pretrained=True):
        command = alnumzoo.get_model_entry(name).training.get("command")
        if command:
            lines.append(f"- `{name}`: `{command}`")
    return "\n".join(lines) or "-"


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace the ``{{ zoo:... }}`` markers with tables built from the registry."""
    return (
        markdown.replace("{{ zoo:results }}", _results_table())
        .replace("{{ zoo:architectures }}", _architectures_table())
        .replace("{{ zoo:commands }}", _commands())
    )
