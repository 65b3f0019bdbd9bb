"""Load weights from a local folder, a registry name or a Hub repository, verified and strict."""

from __future__ import annotations

import functools
import os
import re
import socket
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from huggingface_hub import constants as hf_constants
from huggingface_hub import (
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    try_to_load_from_cache,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils._validators import validate_repo_id
from safetensors import SafetensorError
from safetensors.torch import load, load_file

from alnumzoo.data.profiles import PROFILES
from alnumzoo.hub.adapt import adapt_head, adapt_stem, check_keys, check_values
from alnumzoo.hub.config import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    build_from_config,
    read_config,
    read_temperature,
)
from alnumzoo.hub.files import sha256_file, verify_sha256
from alnumzoo.hub.transfer import bounded_download, transport_errors
from alnumzoo.labels import LabelMap
from alnumzoo.models.base import ZooModel
from alnumzoo.models.provenance import LoadReport
from alnumzoo.models.registry import (
    HubWeights,
    ModelEntry,
    TimmPretrained,
    get_model_entry,
    list_models,
)

__all__ = [
    "ResolvedSource",
    "check_hub_reference",
    "from_pretrained",
    "load_state_file",
    "resolve_source",
]

_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+(@[\w./-]+)?$")


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


@dataclass(frozen=True)
class _HubAccess:
    """How to reach the Hub: huggingface_hub's cache, offline switch, token and endpoint."""

    cache_dir: str | Path | None = None
    local_files_only: bool | None = None
    token: str | bool | None = None
    endpoint: str | None = None


#: How long a connection to the Hub may take before it counts as unreachable. Without it,
#: huggingface_hub retries a dead network with back-off for about a minute before it says so.
REACH_TIMEOUT_S = 2.0


@functools.lru_cache(maxsize=8)
def hub_reachable(endpoint: str | None = None) -> bool:
    """Whether a TCP connection to the Hub endpoint (``HF_ENDPOINT`` by default) opens within
    `REACH_TIMEOUT_S`; remembered for the process."""
    url = urlparse(endpoint or hf_constants.ENDPOINT)
    if url.hostname is None:
        return False
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=REACH_TIMEOUT_S):
            return True
    except OSError:
        return False


def _download(repo_id: str, filename: str, revision: str | None, access: _HubAccess) -> Path:
    cache_dir, token, endpoint = access.cache_dir, access.token, access.endpoint
    forced = access.local_files_only if access.local_files_only is not None else _offline_env()
    # A dead network reads the cache at once instead of retrying for a minute.
    offline = forced or not hub_reachable(endpoint)
    limit = MAX_DOWNLOAD_BYTES.get(filename, MAX_WEIGHTS_BYTES)
    try:
        with bounded_download(
            f"{repo_id}/{filename}", max_bytes=limit, seconds=download_seconds()
        ):
            if not offline:
                _check_announced_size(repo_id, filename, revision, access)
            return Path(
                hf_hub_download(
                    repo_id,
                    filename,
                    revision=revision,
                    cache_dir=cache_dir,
                    local_files_only=offline,
                    token=token,
                    endpoint=endpoint,
                )
            )
    except transport_errors() as exc:
        raise ConnectionError(
            f"downloading {repo_id}/{filename} failed: {type(exc).__name__}: {exc}"
        ) from exc
    except LocalEntryNotFoundError as exc:
        raise FileNotFoundError(
            f"{filename} of {repo_id} (revision {revision or 'main'}) is not in the Hugging Face "
            f"cache{f' at {cache_dir}' if cache_dir else ''} and the Hub cannot be reached "
            f"{'(offline mode)' if forced else '(no connection)' if offline else ''}. With "
            f"network, run: hf download "
            f"{repo_id} {filename} --revision {revision or 'main'}"
            f"{f' --cache-dir {cache_dir}' if cache_dir else ''}; or pass a local folder"
        ) from exc
    except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as exc:
        raise FileNotFoundError(f"{repo_id}@{revision or 'main'}/{filename}: {exc}") from exc
    except HfHubHTTPError as exc:
        raise ConnectionError(f"downloading {repo_id}/{filename} failed: {exc}") from exc


def download_seconds() -> float:
    """The time one file's download may take in all (``ALNUMZOO_DOWNLOAD_SECONDS``, default
    300: a 256 MB file at under 1 MB/s), so a server that trickles bytes cannot hang a load."""
    value = os.environ.get("ALNUMZOO_DOWNLOAD_SECONDS", "300")
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"ALNUMZOO_DOWNLOAD_SECONDS must be a positive number, got {value!r}")
    return seconds


#: The largest file a download may announce: a config.json describes one model, and weights
#: in this zoo are under 100 MB (EfficientNet-B2 is 35 MB); anything larger is refused before
#: a byte of it is fetched.
MAX_DOWNLOAD_BYTES = {CONFIG_NAME: 1 << 20}
MAX_WEIGHTS_BYTES = 256 << 20
_HASH_ETAG = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


def _check_announced_size(
    repo_id: str, filename: str, revision: str | None, access: _HubAccess
) -> None:
    url = hf_hub_url(repo_id, filename, revision=revision, endpoint=access.endpoint)
    metadata = get_hf_file_metadata(url, token=access.token, timeout=10 * REACH_TIMEOUT_S)
    # huggingface_hub names the cached blob after the ETag: anything but a git or LFS hash
    # could be a path ("../../x") that writes outside the cache.
    if metadata.etag is not None and not _HASH_ETAG.match(metadata.etag):
        raise ValueError(
            f"{repo_id}/{filename}: the server's ETag {metadata.etag[:80]!r} is not a content hash"
        )
    limit = MAX_DOWNLOAD_BYTES.get(filename, MAX_WEIGHTS_BYTES)
    if metadata.size is not None and metadata.size > limit:
        raise ValueError(
            f"{repo_id}/{filename} is announced as {metadata.size:,} bytes; alnumzoo downloads "
            f"at most {limit:,} for a {'config' if filename == CONFIG_NAME else 'weights file'}"
        )


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


def _data_profile(config: dict[str, Any], labels: LabelMap | None) -> str | None:
    """The data profile weights were trained for: written in their config, or (older configs)
    the profile of the labels they were saved with."""
    name = config.get("data_profile")
    if not isinstance(name, str) and labels is not None:
        name = labels.name
    return name if isinstance(name, str) and name in PROFILES else None


def embedded_weights_dir(name: str) -> Path:
    """The package folder that holds the shipped copy of registry variant ``name``."""
    return Path(__file__).resolve().parent.parent / "weights" / name


def _offline_env() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


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
    [`resolve_source`][alnumzoo.hub.load.resolve_source]); a registry name with published weights
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
    old_labels = LabelMap.from_dict(config["labels"]) if config.get("labels") else None
    new_head = labels is not None or num_classes is not None
    if new_head:
        overrides["labels"] = labels
        overrides["num_classes"] = num_classes
    if in_chans is not None:
        overrides["in_chans"] = in_chans
    model = build_from_config(config, **overrides)  # checks the config before any weights
    # A new head has new logits: the shipped calibration no longer applies to them.
    temperature = 1.0 if new_head else read_temperature(config, str(source.config_path))
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
    model.temperature = temperature
    model.data_profile = _data_profile(config, old_labels)
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


@dataclass(frozen=True)
class ResolvedSource:
    """Where [`from_pretrained`][alnumzoo.hub.load.from_pretrained] reads a model from, before
    anything is loaded.

    Attributes:
        kind: ``"local"``, ``"embedded"``, ``"registry"`` or ``"hub"`` (see
            [`LoadReport`][alnumzoo.models.provenance.LoadReport]).
        location: Folder or repository id.
        revision: Hub commit the files resolved to (``None`` for folders).
        config_path: The ``config.json`` to read.
        weights_path: The weights file to read.
        pin: The registry's pin the files must match, if any.
    """

    kind: str
    location: str
    revision: str | None
    config_path: Path
    weights_path: Path
    pin: HubWeights | None = None


def _is_path_spelling(name: str) -> bool:
    return name.startswith(("./", "../", "/", "~", ".\\", "..\\")) or os.sep in name


def resolve_source(
    name_or_path: str | Path,
    *,
    revision: str | None = None,
    weights_name: str = WEIGHTS_NAME,
    cache_dir: str | Path | None = None,
    local_files_only: bool | None = None,
    token: str | bool | None = None,
    endpoint: str | None = None,
) -> ResolvedSource | ModelEntry:
    """Decide where ``name_or_path`` is loaded from and fetch its files (no model is built).

    - A `pathlib.Path`, or a string spelled as a path (``./name``, ``../x``, an
      absolute path, anything with a path separator that is a folder), is a local folder.
    - A bare name is a registry name and always means the registry's pinned weights, even when
      a folder of that name exists in the working directory (a warning says how to load the
      folder instead). With ``revision`` it is downloaded at that Hub revision instead of the
      pin, and is then not sha256-verified.
    - ``org/name[@revision]`` is a Hub repository.

    Returns a [`ResolvedSource`][alnumzoo.hub.load.ResolvedSource], or the registry entry when timm
    owns the weights.

    Raises:
        FileNotFoundError: no such folder, registry weights or repository; or not cached
            offline (the message gives the ``hf download`` command).
        KeyError: an unknown bare name (the message suggests close registry names).
    """
    name = str(name_or_path)
    # ./x, ../x, /x and ~/x can only mean folders; org/name may be either, and is a folder
    # when one exists.
    explicit_path = name.startswith(("./", "../", "/", "~", ".\\", "..\\"))
    if isinstance(name_or_path, Path) or explicit_path or (
        _is_path_spelling(name) and Path(name).is_dir()
    ):
        folder = Path(name).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder (expected a save_pretrained folder)")
        config_path, weights_path = folder / CONFIG_NAME, folder / weights_name
        for p in (config_path, weights_path):
            if not p.is_file():
                raise FileNotFoundError(f"expected {p.name} in {folder} (a save_pretrained folder)")
        return ResolvedSource("local", str(folder), None, config_path, weights_path)
    access = _HubAccess(cache_dir, local_files_only, token, endpoint)
    if "/" not in name and "@" not in name:
        try:
            entry = get_model_entry(name)
        except KeyError as exc:
            if Path(name).is_dir():
                raise FileNotFoundError(
                    f"{name!r} is not a registry name; to load the folder of that name, spell it "
                    f"as a path: './{name}' or Path({name!r})"
                ) from None
            raise exc from None
        if Path(name).is_dir():
            warnings.warn(
                f"a folder ./{name} exists here, but {name!r} is a registry name and loads the "
                f"registry's pinned weights; pass './{name}' to load the folder",
                stacklevel=3,
            )
        if isinstance(entry.weights, TimmPretrained):
            return entry
        if not isinstance(entry.weights, HubWeights):
            raise FileNotFoundError(
                f"no pretrained weights are published for {name!r}; models with weights: "
                f"{list_models(pretrained=True)}"
            )
        pin = entry.weights
        if revision is not None:
            # An explicit revision asks for the Hub's files at it, even the pinned one's name:
            # "main" moves, so the shipped copy cannot stand in for it, nor the pin verify it.
            return _from_hub(pin.repo_id, pin.filename, revision, access)
        bundled = embedded_weights_dir(name)
        if pin.embedded and (bundled / pin.filename).is_file():
            # Shipped inside the package: no network, same sha256 checks as a download.
            return ResolvedSource(
                "embedded", str(bundled), None, bundled / CONFIG_NAME, bundled / pin.filename, pin
            )
        hub = _from_hub(pin.repo_id, pin.filename, pin.revision, access)
        return ResolvedSource("registry", hub.location, hub.revision, hub.config_path,
                              hub.weights_path, pin)  # fmt: skip
    if _REPO_ID.match(name):
        repo_id, _, at_rev = name.partition("@")
        return _from_hub(repo_id, weights_name, revision or at_rev or None, access)
    raise FileNotFoundError(
        f"{name!r} is not a folder, a registry name or a Hub repository id (org/name)"
    )


# A git ref or commit id as the Hub serves them: no empty or dot-led path components (so no
# ".." that huggingface_hub would join into a cache path), no trailing "/" or ".lock".
_REVISION = re.compile(r"^(?!.*(?:^|/)\.)(?!.*//)(?!.*/$)(?!.*\.lock$)[A-Za-z0-9._/-]{1,255}$")


def check_hub_reference(repo_id: str, revision: str | None, filename: str) -> None:
    """Refuse a repository id, revision or file name that is not what the Hub serves, before
    any request: huggingface_hub joins the revision and file name into paths in its cache, so
    ``revision="../../../tmp/x"`` would write outside it.

    Raises:
        ValueError: the id breaks the Hub's rules (``org/name``, at most 96 characters), the
            revision is not a plain ref or commit id, or the file name leaves the repository.
    """
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ValueError(f"{repo_id[:100]!r} is not a Hub repository id: {exc}") from None
    if "/" not in repo_id:
        raise ValueError(f"{repo_id!r} is not a Hub repository id: expected org/name")
    if revision is not None and not _REVISION.match(revision):
        raise ValueError(
            f"{revision[:100]!r} is not a Hub revision: expected a branch, tag or commit id "
            "(letters, digits, '.', '_', '-', '/'; no '..' or empty parts)"
        )
    parts = filename.split("/")
    if not filename or filename.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{filename[:100]!r} is not a file name inside a repository")


def _from_hub(
    repo_id: str, weights_name: str, revision: str | None, access: _HubAccess
) -> ResolvedSource:
    check_hub_reference(repo_id, revision, weights_name)
    config_path = _download(repo_id, CONFIG_NAME, revision, access)
    weights_path = _download(repo_id, weights_name, revision, access)
    # The cache stores each download under the commit it resolved to: report that commit,
    # not the branch name that was asked for.
    resolved = (
        weights_path.parent.name if weights_path.parent.parent.name == "snapshots" else revision
    )
    return ResolvedSource("hub", repo_id, resolved, config_path, weights_path)


def _from_timm(
    entry: ModelEntry,
    num_classes: int | None,
    labels: Sequence[str] | LabelMap | None,
    in_chans: int | None,
) -> ZooModel:
    # timm owns these (ImageNet starting points): it downloads and adapts them.
    assert isinstance(entry.weights, TimmPretrained)
    repo = entry.weights.hf_id
    cached = any(
        isinstance(try_to_load_from_cache(repo, f), str)
        for f in ("model.safetensors", "pytorch_model.bin")
    )
    if not cached and (_offline_env() or not hub_reachable(None)):
        raise FileNotFoundError(
            f"timm's weights {repo} are not in the Hugging Face cache and the Hub cannot be "
            f"reached{' (offline mode)' if _offline_env() else ''}. With network, run: "
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
