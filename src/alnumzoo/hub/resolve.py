"""Where ``from_pretrained`` reads a model from: a folder, the registry's pinned copy (in the
package or on the Hub) or a Hub repository, fetched through ``huggingface_hub`` with every
reference checked before a request and every download bounded in size and time."""

from __future__ import annotations

import functools
import os
import re
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from alnumzoo.hub.config import CONFIG_NAME, WEIGHTS_NAME
from alnumzoo.hub.transfer import bounded_download, transport_errors
from alnumzoo.models.registry import (
    HubWeights,
    ModelEntry,
    TimmPretrained,
    get_model_entry,
    list_models,
)

__all__ = [
    "MAX_DOWNLOAD_BYTES",
    "MAX_WEIGHTS_BYTES",
    "REACH_TIMEOUT_S",
    "HubAccess",
    "ResolvedSource",
    "check_hub_reference",
    "download_seconds",
    "embedded_weights_dir",
    "hub_reachable",
    "offline_env",
    "resolve_source",
]


_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+(@[\w./-]+)?$")


@dataclass(frozen=True)
class HubAccess:
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
    from huggingface_hub import constants

    url = urlparse(endpoint or constants.ENDPOINT)
    if url.hostname is None:
        return False
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=REACH_TIMEOUT_S):
            return True
    except OSError:
        return False


def _download(repo_id: str, filename: str, revision: str | None, access: HubAccess) -> Path:
    # huggingface_hub and its HTTP client take 0.3 s to import: only a Hub load pays for them.
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    cache_dir, token, endpoint = access.cache_dir, access.token, access.endpoint
    forced = access.local_files_only if access.local_files_only is not None else offline_env()
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
    repo_id: str, filename: str, revision: str | None, access: HubAccess
) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

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


def embedded_weights_dir(name: str) -> Path:
    """The package folder that holds the shipped copy of registry variant ``name``."""
    return Path(__file__).resolve().parent.parent / "weights" / name


def offline_env() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


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

    Returns a [`ResolvedSource`][alnumzoo.hub.resolve.ResolvedSource], or the registry entry
    when timm owns the weights.

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
    access = HubAccess(cache_dir, local_files_only, token, endpoint)
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
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils._validators import validate_repo_id

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
    repo_id: str, weights_name: str, revision: str | None, access: HubAccess
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
