"""from_pretrained against a hostile Hub server on 127.0.0.1: bodies that inflate, outgrow
their announced size, trickle, or are cut short end in one clear error, within bounds."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import alnumzoo
from alnumzoo.hub.transfer import DownloadRefusedError

COMMIT = "a" * 40
HONEST = b'{"architecture": "cifar_cnn"}'


class _Handler(BaseHTTPRequestHandler):
    """Serves ``/org/<mode>/resolve/<rev>/config.json`` misbehaving as ``mode`` says."""

    def log_message(self, *args: object) -> None:
        pass

    def _headers(self, length: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", '"' + hashlib.sha1(HONEST).hexdigest() + '"')
        self.send_header("Content-Length", str(length))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()

    def do_HEAD(self) -> None:
        self._headers(len(HONEST))

    def do_GET(self) -> None:
        mode = self.path.split("/")[2]
        if mode == "gzip":  # 64 MiB of zeros in about 64 KB on the wire
            body = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
            self._headers(len(body), {"Content-Encoding": "gzip"})
            self.wfile.write(body)
        elif mode == "overlong":  # announced small, then 2 MiB
            self._headers(2 << 20)
            self.wfile.write(b" " * (2 << 20))
        elif mode == "trickle":  # one byte at a time, never idle long enough to time out
            self._headers(len(HONEST))
            for byte in HONEST:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.25)
        elif mode == "cut":  # the body stops after a few bytes, on every request
            self._headers(len(HONEST))
            self.wfile.write(HONEST[:5])
            self.wfile.flush()
            self.close_connection = True


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(autouse=True)
def _network_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("ALNUMZOO_DOWNLOAD_SECONDS", "2")


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        ("gzip", DownloadRefusedError, r"compressed the body \(gzip\)"),
        ("overlong", DownloadRefusedError, r"more than 1,048,576 bytes"),
        ("trickle", DownloadRefusedError, r"longer than 2 s"),
        ("cut", (ConnectionError, DownloadRefusedError), r"org/cut/config\.json"),
    ],
)
def test_hostile_bodies_end_in_one_clear_error(
    endpoint: str,
    mode: str,
    error: type[BaseException] | tuple[type[BaseException], ...],
    message: str,
    tmp_path: pytest.TempPathFactory,
) -> None:
    cache = tmp_path / "hf"  # type: ignore[operator]
    start = time.monotonic()
    with pytest.raises(error, match=message):
        alnumzoo.from_pretrained(
            f"org/{mode}", endpoint=endpoint, cache_dir=cache, local_files_only=False
        )
    assert time.monotonic() - start < 15
    # Nothing usable was kept: no config.json landed in the cache.
    assert not [p for p in cache.rglob("config.json") if p.is_file()]  # type: ignore[attr-defined]
