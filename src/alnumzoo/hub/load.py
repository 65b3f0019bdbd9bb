"""Load weights from a local folder, a registry name or a Hub repository, verified and strict."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, load_file

from alnumzoo.hub.adapt import adapt_head, adapt_stem, check_keys, check_values
from alnumzoo.hub.config import WEIGHTS_NAME, build_from_config, read_config
from alnumzoo.hub.files import sha256_file, verify_sha256
from alnumzoo.hub.resolve import (
    MAX_WEIGHTS_BYTES,
    hub_reachable,
    offline_env,
    resolve_source,
)
from alnumzoo.labels import LabelMap
from alnumzoo.models.base import ZooModel
from alnumzoo.models.pretrained_cfg import PretrainedCfg
from alnumzoo.models.provenance import LoadReport
from alnumzoo.models.registry import ModelEntry, TimmPretrained, get_model_entry

__all__ = ["from_pretrained", "load_state_file"]


def load_state_file(
    path: str | Path, *, allow_pickle_formats: bool = False
) -> dict[str, torch.Tensor]:
    """Read a weights file into a state dict on the CPU.

    ``.safetensors`` is always accepted. ``.bin``/``.pth``/``.pt`` pickles are read only when
    ``allow_pickle_formats`` is set, and then with ``torch.load(weights_only=True)``.

    Raises:
        ValueError: corrupt, truncated or unsupported file.
    """
    path = Path(path)
    if path.suffix in (".bin", ".pth", ".pt"):
        if not allow_pickle_formats:
            raise ValueError(
                f"{path} is a pickle-based checkpoint; pass allow_pickle_formats=True to read it "
                "with torch.load(weights_only=True), or convert it to safetensors"
            )
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for bad pickles
            raise ValueError(f"{path}: not a loadable tensor checkpoint ({exc})") from exc
        if not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()
        ):
            raise ValueError(f"{path}: expected a flat state_dict of tensors")
        return state
    try:
        if _utf8(path):
            return load_file(str(path), device="cpu")
        # safetensors only opens UTF-8 paths; a folder named in another locale's bytes is
        # read here (files are at most MAX_WEIGHTS_BYTES, checked before).
        return load(path.read_bytes())
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(
            f"{path}: not a valid safetensors file (corrupt, truncated or another format): {exc}"
        ) from exc


def _utf8(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_weights_file(path: Path) -> None:
    """Size and header before the sha256 reads the whole file: a link to a huge or sparse file
    is refused at once, and a file that is not safetensors fails without being hashed."""
    size = path.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise ValueError(
            f"{path} is {size:,} bytes; weights in this zoo are at most {MAX_WEIGHTS_BYTES:,}"
        )
    if path.suffix == ".safetensors":
        with open(path, "rb") as f:
            head = f.read(8)
        header_len = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 2 <= header_len <= min(size - 8, 100 << 20):
            raise ValueError(
                f"{path}: not a valid safetensors file (its header length {header_len} does "
                f"not fit a {size:,}-byte file)"
            )


def from_pretrained(
    name_or_path: str | Path,
    *,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool | None = None,
    token: str | bool | None = None,
    endpoint: str | None = None,
    num_classes: int | None = None,
    labels: Sequence[str] | LabelMap | None = None,
    in_chans: int | None = None,
    strict: bool = True,
    device: str | torch.device = "cpu",
    weights_name: str | None = None,
    allow_pickle_formats: bool = False,
) -> ZooModel:
    """Load a pretrained model by registry name, Hub repository or local folder.

    ``name_or_path`` is one of: a folder holding ``config.json`` and weights, given as a
    `pathlib.Path` or spelled as a path (``./name``; see
    [`resolve_source`][alnumzoo.hub.resolve.resolve_source]); a registry name with published weights
    (``"bottleneck_cnn.alnum52"``), downloaded at its pinned revision and checked against its pinned
    sha256 on every load (cache hits too); or a Hub repository id (``"org/name"`` or
    ``"org/name@revision"``). Downloads go through ``huggingface_hub`` (its cache,
    ``HF_HUB_OFFLINE``, tokens and proxies).

    The model is rebuilt from ``config.json`` and returned in eval mode on ``device``, with a
    [`LoadReport`][alnumzoo.models.provenance.LoadReport] in ``model.load_report``. Nothing
    half-loaded is ever returned.

    Args:
        name_or_path: See above.
        revision: Hub revision (overrides ``@revision``). For a registry name, any revision
            (even the pinned one's branch name) loads from the Hub instead of the shipped,
            pinned weights, and is then not sha256-verified; an unknown revision raises
            ``FileNotFoundError``.
        cache_dir: Hugging Face cache folder.
        local_files_only: Never touch the network (default: ``HF_HUB_OFFLINE``).
        token: Hub token.
        endpoint: Hub URL (default ``HF_ENDPOINT`` or huggingface.co), e.g. a mirror.
        num_classes: New class count: the backbone is kept and the head re-initialised.
        labels: New labels; rows of labels shared with the pretrained head are kept.
        in_chans: New input channel count: the first conv is adapted (sum/repeat).
        strict: Raise on missing/unexpected keys or shape mismatches (listing them), the
            classification head included: a head is only re-initialised when ``labels`` or
            ``num_classes`` ask for one. ``strict=False`` adapts what does not fit (with a
            warning) and leaves missing keys at their initial values.
        device: Where to put the model.
        weights_name: Weights file inside the folder/repo (default ``model.safetensors``).
        allow_pickle_formats: Permit ``.bin``/``.pth`` files, read with
            ``torch.load(weights_only=True)``.

    Raises:
        FileNotFoundError: not a folder, registry name or reachable repository; or not cached
            while offline (the message says how to fetch it).
        alnumzoo.hub.WeightsIntegrityError: the weights' or the config's sha256 differs from
            the pinned one.
        ValueError: the file is corrupt or its keys/shapes do not fit.
    """
    weights_name = weights_name or WEIGHTS_NAME
    name = str(name_or_path)
    source = resolve_source(
        name_or_path,
        revision=revision,
        weights_name=weights_name,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
        token=token,
        endpoint=endpoint,
    )
    if isinstance(source, ModelEntry):
        return _from_timm(source, num_classes, labels, in_chans).to(device).eval()
    pin = source.pin
    _check_weights_file(source.weights_path)
    digest = sha256_file(source.weights_path)
    if pin is not None:
        verify_sha256(source.weights_path, pin.sha256)
        if pin.config_sha256 is not None:
            verify_sha256(source.config_path, pin.config_sha256)
    config = read_config(source.config_path)

    overrides: dict[str, Any] = {}
    old_labels = config.labels
    new_head = labels is not None or num_classes is not None
    if new_head:
        overrides["labels"] = labels
        overrides["num_classes"] = num_classes
    if in_chans is not None:
        overrides["in_chans"] = in_chans
    model = build_from_config(config, **overrides)  # checks the config before any weights
    if config.record is None:  # a config older than the record: seeded from its data profile
        model.record = PretrainedCfg.seed(model, config.data_profile)
    if pin is not None and not model.record.metrics:
        # Shipped weights whose config predates the record: the registry holds their results.
        entry = get_model_entry(name)
        detail = entry.training.get("recipe_detail")
        model.record = dataclasses.replace(
            model.record,
            recipe=dict(detail) if isinstance(detail, dict) else None,
            metrics=dict(entry.metrics),
            provenance={"weights": name, **entry.training},
        )
    state = load_state_file(source.weights_path, allow_pickle_formats=allow_pickle_formats)
    # The head is rebuilt only when asked for (new labels or classes), or when strict=False
    # tolerates a mismatch; with strict=True a head that does not fit is an error.
    head = adapt_head(model, state, old_labels) if new_head or not strict else None
    stem = adapt_stem(model, state) if in_chans is not None or not strict else None
    adapted = [a for a in (head, stem) if a]
    if strict:
        check_keys(model, state, source.weights_path)
    check_values(model, state, source.weights_path)
    model.load_state_dict(state, strict=strict)
    if new_head:  # new logits: the shipped calibration no longer applies to them
        model.temperature, model.undo_smoothing = 1.0, 0.0
    model.load_report = LoadReport(
        source.kind,
        source.location,
        source.revision,
        source.weights_path,
        digest,
        pin is not None,
        adapted,
    )
    for message in adapted:
        warnings.warn(f"from_pretrained({name!r}): {message}", stacklevel=2)
    return model.to(device).eval()


def _from_timm(
    entry: ModelEntry,
    num_classes: int | None,
    labels: Sequence[str] | LabelMap | None,
    in_chans: int | None,
) -> ZooModel:
    # timm owns these (ImageNet starting points): it downloads and adapts them.
    from huggingface_hub import try_to_load_from_cache

    assert isinstance(entry.weights, TimmPretrained)
    repo = entry.weights.hf_id
    cached = any(
        isinstance(try_to_load_from_cache(repo, f), str)
        for f in ("model.safetensors", "pytorch_model.bin")
    )
    if not cached and (offline_env() or not hub_reachable(None)):
        raise FileNotFoundError(
            f"timm's weights {repo} are not in the Hugging Face cache and the Hub cannot be "
            f"reached{' (offline mode)' if offline_env() else ''}. With network, run: "
            f"hf download {repo}"
        )
    built = entry.builder(
        **{**entry.kwargs, "num_classes": num_classes or entry.num_classes},
        **({"labels": labels} if labels is not None else {}),
        **({"in_chans": in_chans} if in_chans is not None else {}),
        pretrained=True,
    )
    assert isinstance(built, ZooModel)
    built.load_report = LoadReport("timm", entry.weights.hf_id, None, None, None, False, [])
    return built
