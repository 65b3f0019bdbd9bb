"""from_pretrained end to end over real HTTP: olah serves a git repository on 127.0.0.1.

olah (a Hugging Face Hub mirror) runs offline with its upstream pointed at a dead loopback
port and serves a local git repository as ``models/alnumzoo/tiny``; huggingface_hub reaches it
through ``endpoint=``. Uploads are not implemented by olah, so push_to_hub is tested against a
fake HfApi in test_hub.py.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import alnumzoo
from alnumzoo.hub import WeightsIntegrityError
from alnumzoo.hub.files import sha256_file
from alnumzoo.models.registry import HubWeights, ModelEntry

pytest.importorskip("olah")
if shutil.which("git") is None:
    pytest.skip("git is needed to build the served repository", allow_module_level=True)


@pytest.fixture(autouse=True)
def _network_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest switches huggingface_hub offline; these tests talk to 127.0.0.1 only."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t.invalid",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[str]]]:
    """(endpoint, repo folder, [first commit, second commit]) of a running olah server."""
    root = tmp_path_factory.mktemp("olah")
    repo = root / "mirrors" / "models" / "alnumzoo" / "tiny"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    torch.manual_seed(0)
    alnumzoo.save_pretrained(alnumzoo.CifarCNN(), repo)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "first weights")
    first = _git(repo, "rev-parse", "HEAD")
    torch.manual_seed(1)
    alnumzoo.save_pretrained(alnumzoo.CifarCNN(), repo)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "second weights")
    second = _git(repo, "rev-parse", "HEAD")

    port, dead = _free_port(), _free_port()
    config = root / "olah.toml"
    config.write_text(
        f"""[basic]
host = "127.0.0.1"
port = {port}
repos-path = "{root / "cache"}"
mirrors-path = ["{root / "mirrors"}"]
hf-scheme = "http"
hf-netloc = "127.0.0.1:{dead}"
hf-lfs-netloc = "127.0.0.1:{dead}"
mirror-scheme = "http"
mirror-netloc = "127.0.0.1:{port}"
mirror-lfs-netloc = "127.0.0.1:{port}"

[accessibility]
offline = true
"""
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "olah.server", "--config", str(config)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                assert server.stderr is not None
                pytest.fail(f"olah did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}", repo, [first, second]
    finally:
        server.terminate()
        server.wait(timeout=10)


def _expected(repo: Path, commit: str, name: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), "show", f"{commit}:{name}"], check=True, capture_output=True
    ).stdout


def test_main_and_exact_revision_over_http(
    served: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    endpoint, repo, (first, second) = served
    cache = tmp_path / "hf"
    latest = alnumzoo.from_pretrained(
        "alnumzoo/tiny", endpoint=endpoint, cache_dir=cache, local_files_only=False
    )
    pinned = alnumzoo.from_pretrained(
        f"alnumzoo/tiny@{first}", endpoint=endpoint, cache_dir=cache, local_files_only=False
    )
    assert isinstance(latest, alnumzoo.CifarCNN)
    assert latest.load_report is not None
    assert pinned.load_report is not None
    assert latest.load_report.source == "hub"
    assert latest.load_report.revision == second  # main, resolved to its commit
    assert pinned.load_report.revision == first
    # Each revision brought its own bytes.
    snapshot = cache / "models--alnumzoo--tiny" / "snapshots"
    assert (snapshot / first / "model.safetensors").read_bytes() == _expected(
        repo, first, "model.safetensors"
    )
    assert (snapshot / second / "model.safetensors").read_bytes() == _expected(
        repo, second, "model.safetensors"
    )
    x = torch.rand(2, 3, 32, 32)
    assert not torch.equal(latest(x), pinned(x))
    torch.manual_seed(0)
    assert torch.equal(pinned(x), alnumzoo.CifarCNN().eval()(x))


def test_cache_is_reused_without_network(
    served: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    endpoint, _, (first, _) = served
    cache = tmp_path / "hf"
    online = alnumzoo.from_pretrained(
        f"alnumzoo/tiny@{first}", endpoint=endpoint, cache_dir=cache, local_files_only=False
    )
    dead = f"http://127.0.0.1:{_free_port()}"
    offline = alnumzoo.from_pretrained(
        f"alnumzoo/tiny@{first}", endpoint=dead, cache_dir=cache, local_files_only=True
    )
    for key, value in online.state_dict().items():
        assert torch.equal(value, offline.state_dict()[key])
    with pytest.raises(FileNotFoundError, match="hf download alnumzoo/tiny"):
        alnumzoo.from_pretrained(
            "alnumzoo/tiny@" + "0" * 40,
            endpoint=dead,
            cache_dir=tmp_path / "empty",
            local_files_only=True,
        )


def test_registered_sha256_is_verified_over_http(
    served: tuple[str, Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alnumzoo.models import registry

    endpoint, repo, (first, _second) = served
    blob = tmp_path / "w.safetensors"
    blob.write_bytes(_expected(repo, first, "model.safetensors"))
    good = sha256_file(blob)

    def register(name: str, digest: str) -> None:
        entry = ModelEntry(
            name,
            alnumzoo.CifarCNN,
            "test",
            (3, 32, 32),
            10,
            None,
            469532,
            "test",
            "test",
            weights=HubWeights("alnumzoo/tiny", first, digest),
        )
        monkeypatch.setitem(registry._REGISTRY, name, entry)

    register("cifar_cnn.http_good", good)
    model = alnumzoo.from_pretrained(
        "cifar_cnn.http_good", endpoint=endpoint, cache_dir=tmp_path / "hf", local_files_only=False
    )
    assert model.load_report is not None
    assert model.load_report.sha256 == good
    assert model.load_report.revision == first
    register("cifar_cnn.http_bad", "f" * 64)
    with pytest.raises(WeightsIntegrityError, match=good):
        alnumzoo.from_pretrained(
            "cifar_cnn.http_bad",
            endpoint=endpoint,
            cache_dir=tmp_path / "hf",
            local_files_only=False,
        )


def test_an_oversized_file_is_refused_from_its_announced_size(
    served: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    endpoint, repo, _ = served
    _git(repo, "checkout", "-q", "-b", "oversized")
    try:
        (repo / "config.json").write_text(
            '{"architecture": "cifar_cnn", "pad": "' + "x" * (2 << 20) + '"}'
        )
        _git(repo, "commit", "-q", "-am", "a 2 MiB config")
    finally:
        _git(repo, "checkout", "-q", "main")
    cache = tmp_path / "hf"
    with pytest.raises(ValueError, match=r"config\.json is announced as 2,097,\d+ bytes"):
        alnumzoo.from_pretrained(
            "alnumzoo/tiny@oversized", endpoint=endpoint, cache_dir=cache, local_files_only=False
        )
    assert not list(cache.rglob("config.json"))  # not a byte of it was stored
