"""Write a model as a Hub-ready folder: safetensors weights, config.json and a model card."""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError
from safetensors.torch import save_file

from alnumzoo._atomic import atomic_folder, atomic_write, link_tree, set_default_mode
from alnumzoo._version import __version__
from alnumzoo.hub.config import CARD_NAME, CONFIG_NAME, SAVED_FILES, WEIGHTS_NAME, model_config
from alnumzoo.models.base import ZooModel
from alnumzoo.models.params import count_parameters

if TYPE_CHECKING:
    from huggingface_hub import ModelCard

__all__ = ["model_card", "save_pretrained"]


def model_card(
    model: ZooModel,
    *,
    repo_id: str | None = None,
    datasets: tuple[str, ...] = (),
    metrics: Mapping[str, float] | None = None,
    eval_split: str = "",
    recipe: str = "",
    limitations: str = "",
    extra_sections: Mapping[str, str] | None = None,
) -> ModelCard:
    """A Hugging Face model card (``huggingface_hub.ModelCard``): metadata with the real
    repository id, ``eval_results`` for the measured ``metrics`` (accuracy in percent), then
    usage, input contract, results, recipe, intended use and limits, and ``extra_sections`` as
    ``## title`` + text (e.g. the fonts a model was trained on).

    Args:
        model: The model the card describes.
        repo_id: Hub repository (``org/name``) or local folder the usage example loads.
        datasets: Data set names for the metadata; the first one names the eval results.
        metrics: Measured accuracies in percent, e.g. ``{"top1": 91.2}``.
        eval_split: The split the metrics were measured on.
        recipe: How the model was trained.
        limitations: What the model is not for.
        extra_sections: More sections, title to text.
    """
    # huggingface_hub's card classes bring its HTTP client (0.3 s of import): only a save
    # pays for them, not every `import alnumzoo`.
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    metrics = dict(metrics or {})
    name = repo_id or model.arch
    eval_results = [
        EvalResult(
            task_type="image-classification",
            dataset_type=datasets[0],
            dataset_name=datasets[0],
            dataset_split=eval_split or None,
            metric_type="accuracy",
            metric_name=key,
            metric_value=round(float(value), 2),
        )
        for key, value in metrics.items()
    ] if datasets else None  # fmt: skip
    data = ModelCardData(
        library_name="alnumzoo",
        license="mit",
        pipeline_tag="image-classification",
        tags=["image-classification", "alnumzoo", model.arch],
        datasets=list(datasets) or None,
        metrics=["accuracy"] if metrics else None,
        model_name=name,
        eval_results=eval_results,
    )
    cfg = model.pretrained_cfg
    size = model.expected_shape
    lines = [
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
        'print(alnumzoo.predict(model, "image.png", topk=3))  # any image file, prepared for you',
        f"x = alnumzoo.create_transform(model)(pil_image).unsqueeze(0)  # float32 {size}",
        "logits = model(x)",
        "```",
        "",
        "## Input contract",
        "",
        f"`model.pretrained_cfg` (also in `config.json`): input {cfg['input_size']}, values in "
        f"[0, 1] (mean {cfg['mean']}, std {cfg['std']}), {cfg['interpolation']} resizing, "
        f"images fitted by `{cfg['fit']}`"
        + (", cropped to their subject first" if cfg["content_crop"] else "")
        + (
            f"; trained on {cfg['background']} backgrounds, and images with the opposite "
            "background are inverted"
            if cfg["background"]
            else ""
        )
        + ". `alnumzoo.create_transform(model)` applies it; `timm.data.resolve_data_config"
        "(model=model)` reads it.",
        "",
        "## Results",
        "",
        *(
            [
                f"Measured on {eval_split}." if eval_split else "",
                "",
                "| metric | accuracy (%) |",
                "|---|---:|",
                *(f"| {k} | {v:.2f} |" for k, v in metrics.items()),
            ]
            if metrics
            else ["No evaluation was recorded when this folder was saved."]
        ),
        "",
        "## Training recipe",
        "",
        recipe or "No training recipe was recorded when this folder was saved.",
        "",
        "## Intended use and limits",
        "",
        f"Classifies single images into the {model.num_classes} labels in `config.json`. "
        + (limitations or "Not validated outside the data it was trained on."),
        "",
    ]
    for title, text in (extra_sections or {}).items():
        lines += [f"## {title}", "", text, ""]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines))


def save_pretrained(
    model: ZooModel,
    save_directory: str | Path,
    *,
    card: str | ModelCard | None = None,
    metadata: Mapping[str, str] | None = None,
    extra_config: Mapping[str, Any] | None = None,
) -> Path:
    """Save ``model`` as ``model.safetensors`` + ``config.json`` + ``README.md`` in a folder.

    Weights are stored with safetensors (never pickle). The folder is written as a whole
    into a temporary sibling, fsynced and swapped in (`alnumzoo._atomic.atomic_folder`),
    so a crash leaves the previous folder or the new one, never a mix; files get the
    permissions the umask allows (0644 usually). Other files already in the folder (a git
    clone's ``.git``, notes) are kept.

    Args:
        model: The model to save.
        save_directory: Folder to write (created if needed).
        card: Model card (default: [`model_card`][alnumzoo.hub.save.model_card] naming the folder,
            with no metrics).
        metadata: Extra string metadata stored in the safetensors header.
        extra_config: Extra top-level entries for ``config.json`` (e.g. ``"training_data"``
            with the font families a model has seen); they cannot replace the entries that
            rebuild the model.

    Returns:
        The folder.

    Raises:
        FileExistsError: ``save_directory`` exists and is not a folder.
    """
    out = Path(save_directory).expanduser()
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    # A link to a folder (runs/latest -> v1) is saved through: v1 is replaced, the link stays.
    out = out.resolve() if out.is_symlink() else out
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
    # A folder name that is not UTF-8 (bytes from another locale) is shown with escapes.
    shown = os.fsencode(out.name).decode("utf-8", "backslashreplace")
    text = str(card if card is not None else model_card(model, repo_id=f"./{shown}"))

    def write_files(folder: Path) -> None:
        try:
            save_file(state, str(folder / WEIGHTS_NAME), metadata=header)
        except SafetensorError as exc:
            # A full disk or a file-size limit shows as a safetensors error; say which file.
            raise OSError(f"cannot write {out / WEIGHTS_NAME}: {exc}") from exc
        (folder / CONFIG_NAME).write_text(config, encoding="utf-8")
        (folder / CARD_NAME).write_text(text, encoding="utf-8")
        for name in SAVED_FILES:
            set_default_mode(folder / name)

    def fill(folder: Path) -> None:
        write_files(folder)
        for entry in foreign:
            link_tree(entry, folder / entry.name)

    if _holds_working_directory(out):
        # The folder a process works in cannot be swapped out under it: each file is
        # replaced atomically instead (readers may briefly see old and new files together).
        with tempfile.TemporaryDirectory(dir=out, prefix=".alnumzoo-save.") as tmp:
            written = Path(tmp)
            write_files(written)
            for name in SAVED_FILES:
                atomic_write(out / name, functools.partial(_copy_into, written / name))
        return out
    return atomic_folder(out, fill)


def _copy_into(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


def _holds_working_directory(folder: Path) -> bool:
    try:
        cwd = Path.cwd().resolve()
    except OSError:
        return False
    resolved = folder.resolve()
    return folder.is_dir() and (cwd == resolved or resolved in cwd.parents)
