"""mkdocs hook: fill the Model zoo page's tables from the registry, and the API page's list of
public names from ``alnumzoo.__all__``, at build time, so the docs can never disagree with
``alnumzoo.list_models()``, ``alnumzoo/weights/zoo.json`` or the package itself."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import alnumzoo


def _published() -> list[alnumzoo.ModelEntry]:
    entries = [alnumzoo.get_model_entry(n) for n in alnumzoo.list_models(pretrained=True)]
    return [e for e in entries if "top1" in e.metrics]


def _results_table() -> str:
    rows = [
        "| variant | params | MFLOPs/img | CPU img/s | top-1 | top-1 TTA | report |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for e in _published():
        m = e.metrics
        rows.append(
            f"| `{e.name}` | {e.num_params:,} | {m['mflops']:.1f} | {m['cpu_img_s']:,.0f} "
            f"| **{m['top1']:.2f}** | {m['top1_tta']:.2f} "
            f"| {_number(m.get('report_top1'))} |"
        )
    return "\n".join(rows) if len(rows) > 2 else "No weights are shipped in this build."


def _calibration_table() -> str:
    """Each shipped variant's calibration and its expected calibration error."""
    rows = [
        "| variant | smoothing undone | temperature | ECE % raw | ECE % temperature only "
        "| ECE % shipped | fitted on |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for e in _published():
        c = e.training.get("calibration")
        if not c:
            rows.append(f"| `{e.name}` | – | – | – | – | – | not calibrated yet |")
            continue
        rows.append(
            f"| `{e.name}` | {c.get('undo_smoothing', 0.0):g} | {c['temperature']:.3f} "
            f"| {c['ece_before']:.2f} | {_number(c.get('ece_temperature_only'))} "
            f"| **{c['ece_after']:.2f}** | {c['fitted_on']} |"
        )
    return "\n".join(rows)


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


_WIDE_RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "alnum52_wide"
_KINDS = ("text", "display", "script", "blackletter")


def _wide_rows() -> list[tuple[str, dict[str, Any]]]:
    """(label, figures) for every variant measured on the wide corpus: those trained on it,
    then older weights measured on it afterwards (benchmarks/alnum52_heldout.py)."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for e in _published():
        if "by_category" in e.training:
            rows.append((f"`{e.name}`", {**e.training, **e.metrics}))
    # NAME.before.json: the weights NAME shipped before it was trained on the wide corpus.
    for path in sorted(_WIDE_RESULTS.glob("*.before.json")):
        name = path.name.removesuffix(".before.json")
        rows.append((f"`{name}` before *", json.loads(path.read_text())))
    return rows


def _alnum52_wide_table() -> str:
    """Held-out, TTA, tight-crop and selection accuracy and calibration on the wide corpus."""
    rows = [
        "| variant | held-out | TTA | tight crop | select | ECE % (T=1 → fitted) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, f in _wide_rows():
        c = f.get("calibration") or {}
        ece = f"{c['ece_before']:.1f} → {c['ece_after']:.1f}" if c else "–"
        rows.append(
            f"| {label} | **{f['top1']:.2f}** | {_number(f.get('top1_tta'))} "
            f"| {_number(f.get('top1_tight'))} | {_number(f.get('top1_select'))} | {ece} |"
        )
    return "\n".join(rows) if len(rows) > 2 else "No figures on the wide corpus yet."


def _alnum52_kinds_table() -> str:
    """Held-out accuracy (plain / tight crop) on each kind of letterform."""
    rows = [
        "| variant | " + " | ".join(_KINDS) + " |",
        "|---|" + "---:|" * len(_KINDS),
    ]
    for label, f in _wide_rows():
        kinds = f.get("by_category", {})
        cells = [
            f"{_number(kinds[k]['top1'])} / {_number(kinds[k]['top1_tight'])}"
            if k in kinds
            else "–"
            for k in _KINDS
        ]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows) if len(rows) > 2 else ""


_INT8_RESULTS = _WIDE_RESULTS.parent / "int8.json"


def _int8_table() -> str:
    """fp32 against int8 through onnxruntime (benchmarks/int8.py)."""
    if not _INT8_RESULTS.is_file():
        return "Not measured yet: `python benchmarks/int8.py NAME --json FILE`."
    rows = [
        "| variant | images | top-1 fp32 | top-1 int8 | ms/img fp32 (batch 1) | int8 | "
        "ms/batch of 64 fp32 | int8 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in sorted(json.loads(_INT8_RESULTS.read_text()).items()):
        f, q = r["fp32"], r["int8"]
        rows.append(
            f"| `{name}` | {r['images']:,} | {f['top1']:.2f} | {q['top1']:.2f} "
            f"| {f['ms_batch1']:.2f} | {q['ms_batch1']:.2f} | {f['ms_batch64']:.1f} "
            f"| {q['ms_batch64']:.1f} |"
        )
    return "\n".join(rows)


def _training_table() -> str:
    rows = ["| variant | held-out split | trained with | sha256 |", "|---|---|---|---|"]
    for e in _published():
        t = e.training
        threads = t.get("threads")
        sha = getattr(e.weights, "sha256", "")
        where = (
            f"{t['gpu']}"
            if "gpu" in t
            else f"{t.get('device')} ({threads} thread{'s' if threads != 1 else ''})"
        )
        outside = (
            f" ({t['top1_outside_selection']:.2f}% on those outside the epoch-selection sample)"
            if t.get("top1_outside_selection") is not None
            else ""
        )
        start = t.get("fine_tuned_from")
        earlier = (
            f"{start['budget']} on {start.get('gpu', start.get('device'))}, "
            f"{start['epochs']} epochs, then "
            if start
            else ""
        )
        rows.append(
            f"| `{e.name}` | {t.get('held_out')}, {t.get('num_samples', 0):,} images{outside} "
            f"| {t.get('recipe')} recipe, {earlier}{t.get('budget')} on {where}, "
            f"{t.get('epochs')} epochs{' (fine-tuning)' if start else ''}, "
            f"TTA {t.get('tta')} | `{sha[:16]}` |"
        )
    return "\n".join(rows) if len(rows) > 2 else ""


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
            f"| {e.num_params:,} | {label} | {e.source.split(':')[0]} |"
        )
    return "\n".join(rows)


def _commands() -> str:
    lines = []
    for name in alnumzoo.list_models(pretrained=True):
        training = alnumzoo.get_model_entry(name).training
        command = training.get("command")
        start = training.get("fine_tuned_from")
        if command and start:
            lines.append(f"- `{name}`: `{start['command']}`, then `{command}`")
        elif command:
            lines.append(f"- `{name}`: `{command}`")
    return "\n".join(lines) or "-"


def _public_api() -> str:
    rows = ["| name | kind | what it is |", "|---|---|---|"]
    for name in sorted(alnumzoo.__all__, key=str.lower):
        obj = getattr(alnumzoo, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            kind = "class" if inspect.isclass(obj) else "function"
            target = f"{obj.__module__}.{obj.__qualname__}"
            summary = (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ")
            rows.append(f"| [`{name}`][{target}] | {kind} | {summary} |")
        elif isinstance(obj, alnumzoo.LabelMap):
            first = ", ".join(obj.names[:4])
            rows.append(f"| `{name}` | LabelMap | {len(obj)} labels ({first}, ...) |")
        else:
            rows.append(f"| `{name}` | {type(obj).__name__} | `{obj!r}` |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace the ``{{ zoo:... }}`` markers with tables built from the registry."""
    return (
        markdown.replace("{{ zoo:results }}", _results_table())
        .replace("{{ zoo:training }}", _training_table())
        .replace("{{ zoo:alnum52_wide }}", _alnum52_wide_table())
        .replace("{{ zoo:alnum52_kinds }}", _alnum52_kinds_table())
        .replace("{{ zoo:int8 }}", _int8_table())
        .replace("{{ zoo:calibration }}", _calibration_table())
        .replace("{{ zoo:architectures }}", _architectures_table())
        .replace("{{ zoo:commands }}", _commands())
        .replace("{{ api:public }}", _public_api())
    )
