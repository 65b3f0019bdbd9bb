"""Write a model as a Hub-ready folder: safetensors weights, config.json and a model card."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from alnumzoo._atomic import atomic_folder, link_tree, set_default_mode
from alnumzoo._version import __version__
from alnumzoo.hub.config import CARD_NAME, CONFIG_NAME, SAVED_FILES, WEIGHTS_NAME, model_config
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
    extra_sections: Mapping[str, str] | None = None,
) -> str:
    """A Hugging Face model card (YAML front matter + usage, recipe, intended use, limits,
    then ``extra_sections`` as ``## title`` + text, e.g. the fonts a model was trained on)."""
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
    for title, text in (extra_sections or {}).items():
        lines += [f"## {title}", "", text, ""]
    return "\n".join(lines)


def save_pretrained(
    model: ZooModel,
    save_directory: str | Path,
    *,
    card: str | None = None,
    metadata: Mapping[str, str] | None = None,
    extra_config: Mapping[str, Any] | None = None,
) -> Path:
    """Save ``model`` as ``model.safetensors`` + ``config.json`` + ``README.md`` in a folder.

    Weights are stored with safetensors (never pickle). The folder is written as a whole
    into a temporary sibling, fsynced and swapped in (:func:`alnumzoo._atomic.atomic_folder`),
    so a crash leaves the previous folder or the new one, never a mix; files get the
    permissions the umask allows (0644 usually). Other files already in the folder (a git
    clone's ``.git``, notes) are kept.

    Args:
        model: The model to save.
        save_directory: Folder to write (created if needed).
        card: Model card text (default: :func:`model_card` with no metrics).
        metadata: Extra string metadata stored in the safetensors header.
        extra_config: Extra top-level entries for ``config.json`` (e.g. ``"training_data"``
            with the font families a model has seen); they cannot replace the entries that
            rebuild the model.

    Returns:
        The folder.

    Raises:
        FileExistsError: ``save_directory`` exists and is not a folder.
    """
    out = Path(save_directory)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    # Other entries (a git clone's .git, the user's own notes) are carried into the new
    # version of the folder as hard links: the folder is replaced as a whole.
    foreign = [p for p in out.iterdir() if p.name not in SAVED_FILES] if out.is_dir() else []
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    header = {"format": "pt", "architecture": model.arch, **dict(metadata or {})}
    base = model_config(model)
    clash = sorted(set(extra_config or {}) & set(base))
    if clash:
        raise ValueError(f"extra_config may not replace {clash}")
    config = json.dumps({**base, **dict(extra_config or {})}, indent=2)
    text = card if card is not None else model_card(model)

    def fill(folder: Path) -> None:
        save_file(state, str(folder / WEIGHTS_NAME), metadata=header)
        (folder / CONFIG_NAME).write_text(config)
        (folder / CARD_NAME).write_text(text)
        for name in SAVED_FILES:
            set_default_mode(folder / name)
        for entry in foreign:
            link_tree(entry, folder / entry.name)

    return atomic_folder(out, fill)
