"""Write a model as a Hub-ready folder: safetensors weights, config.json and a model card."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from safetensors.torch import save_file

from alnumzoo._version import __version__
from alnumzoo.hub.config import CONFIG_NAME, WEIGHTS_NAME, model_config
from alnumzoo.hub.files import atomic_write
from alnumzoo.models.base import ZooModel
from alnumzoo.models.params import count_parameters

__all__ = ["model_card", "save_pretrained"]


def model_card(
    model: ZooModel,
    *,
    repo_id: str | None = None,
    datasets: tuple[str, ...] = (),
    metrics: Mapping[str, float] | None = None,
    recipe: str = "",
    limitations: str = "",
) -> str:
    """A Hugging Face model card (YAML front matter + usage, recipe, intended use, limits)."""
    metrics = dict(metrics or {})
    name = repo_id or f"<org>/{model.arch}"
    front = [
        "---",
        "library_name: alnumzoo",
        "license: mit",
        "pipeline_tag: image-classification",
        "tags:",
        "- image-classification",
        "- alnumzoo",
        f"- {model.arch}",
    ]
    if datasets:
        front += ["datasets:", *(f"- {d}" for d in datasets)]
    if metrics:
        front += ["metrics:", *(f"- {k}" for k in metrics)]
    front.append("---")
    size = model.expected_shape
    lines = [
        *front,
        "",
        f"# {name}",
        "",
        f"`{model.arch}` from alnumzoo {__version__}: "
        f"{count_parameters(model):,} parameters, {model.num_classes} classes.",
        "",
        "## Usage",
        "",
        "```python",
        "import alnumzoo",
        "",
        f'model = alnumzoo.from_pretrained("{name}")',
        f"logits = model(images)  # float32 {size}, values in [0, 1]",
        "```",
        "",
        "## Results",
        "",
        *(["| metric | value |", "|---|---:|"] if metrics else ["Not evaluated."]),
        *(f"| {k} | {v:.2f} |" for k, v in metrics.items()),
        "",
        "## Training recipe",
        "",
        recipe or "Not recorded.",
        "",
        "## Intended use and limits",
        "",
        f"Classifies single images of shape {size} into the labels in `config.json`. "
        "Inputs are expected exactly as produced by alnumzoo's data sets (no normalisation step). "
        + (limitations or "Not validated outside the data it was trained on."),
        "",
    ]
    return "\n".join(lines)


def save_pretrained(
    model: ZooModel,
    save_directory: str | Path,
    *,
    card: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Save ``model`` as ``model.safetensors`` + ``config.json`` + ``README.md`` in a folder.

    Weights are stored with safetensors (never pickle); every file is written atomically.

    Args:
        model: The model to save.
        save_directory: Folder to write (created if needed).
        card: Model card text (default: :func:`model_card` with no metrics).
        metadata: Extra string metadata stored in the safetensors header.

    Returns:
        The folder.
    """
    out = Path(save_directory)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    header = {"format": "pt", "architecture": model.arch, **dict(metadata or {})}
    atomic_write(out / WEIGHTS_NAME, lambda p: save_file(state, str(p), metadata=header))
    config = json.dumps(model_config(model), indent=2)
    atomic_write(out / CONFIG_NAME, lambda p: p.write_text(config))
    text = card if card is not None else model_card(model)
    atomic_write(out / "README.md", lambda p: p.write_text(text))
    return out
