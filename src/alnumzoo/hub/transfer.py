"""Bounds on what one Hub download may cost: bytes on the wire, content encoding and time.

huggingface_hub fetches files with one shared HTTP client. alnumzoo gives that client a
transport which, while a download of alnumzoo's runs (`bounded_download`), refuses a body that
grows past the announced limit, a compressed body (alnumzoo asks for ``identity``; a server that
compresses anyway could inflate 2 MB on the wire into gigabytes on disk), and any request or
chunk after the download's deadline (a server trickling one byte every few seconds never trips
a read timeout). Outside `bounded_download` the transport passes everything through unchanged,
so other huggingface_hub users in the process (timm, for one) see no difference.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import huggingface_hub

__all__ = ["DownloadRefusedError", "bounded_download", "transport_errors"]


class DownloadRefusedError(ValueError):
    """A download broke one of its bounds (size, encoding or time); nothing was kept."""


@dataclass(frozen=True)
class _Bounds:
    what: str
    max_bytes: int
    deadline: float
    seconds: float


_active: contextvars.ContextVar[_Bounds | None] = contextvars.ContextVar("_active", default=None)
_install_lock = threading.Lock()
_installed = False


def _check_time(bounds: _Bounds) -> None:
    if time.monotonic() > bounds.deadline:
        raise DownloadRefusedError(
            f"{bounds.what}: the download took longer than {bounds.seconds:g} s and was stopped"
        )


def _transport_class(http: Any) -> type:
    """The bounded transport for the HTTP library ``http`` (httpx's API)."""

    class BoundedStream(http.SyncByteStream):  # type: ignore[misc]
        """The response body, counted and timed chunk by chunk as it arrives."""

        def __init__(self, inner: Any, bounds: _Bounds) -> None:
            self._inner, self._bounds = inner, bounds

        def __iter__(self) -> Iterator[bytes]:
            received = 0
            for chunk in self._inner:
                received += len(chunk)
                if received > self._bounds.max_bytes:
                    raise DownloadRefusedError(
                        f"{self._bounds.what}: the server sent more than "
                        f"{self._bounds.max_bytes:,} bytes; the download was stopped"
                    )
                _check_time(self._bounds)
                yield chunk

        def close(self) -> None:
            self._inner.close()

    class BoundedTransport(http.BaseTransport):  # type: ignore[misc]
        def __init__(self) -> None:
            self._inner = http.HTTPTransport()

        def handle_request(self, request: Any) -> Any:
            bounds = _active.get()
            if bounds is None:
                return self._inner.handle_request(request)
            _check_time(bounds)
            response = self._inner.handle_request(request)
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                response.close()
                raise DownloadRefusedError(
                    f"{bounds.what}: the server compressed the body ({encoding}) although "
                    "alnumzoo asked for it uncompressed; refused"
                )
            return http.Response(
                status_code=response.status_code,
                headers=response.headers,
                stream=BoundedStream(response.stream, bounds),
                extensions=response.extensions,
                request=request,
            )

        def close(self) -> None:
            self._inner.close()

    return BoundedTransport


def _http_module() -> Any:
    """The HTTP library huggingface_hub's client comes from (httpx, or its successor)."""
    return __import__(type(huggingface_hub.get_session()).__module__.split(".")[0])


def transport_errors() -> tuple[type[BaseException], ...]:
    """The HTTP library's network failures (connection reset, body cut short, timeouts)."""
    return (_http_module().TransportError,)


def _install() -> None:
    """Give huggingface_hub's shared client the bounded transport (once per process), keeping
    the settings of the client it had (headers, hooks, redirects, timeout)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        current = huggingface_hub.get_session()
        client_class: Any = type(current)
        http = _http_module()
        transport = _transport_class(http)
        settings: dict[str, Any] = {
            "event_hooks": current.event_hooks,
            "follow_redirects": current.follow_redirects,
            "timeout": current.timeout,
            "headers": current.headers,
        }

        def factory() -> Any:
            return client_class(**settings, transport=transport())

        huggingface_hub.set_client_factory(factory)
        _installed = True


@contextmanager
def bounded_download(what: str, *, max_bytes: int, seconds: float) -> Iterator[None]:
    """Run a huggingface_hub download of ``what`` within ``max_bytes`` per response body and
    ``seconds`` in all (requests, redirects, retries and body).

    Raises:
        DownloadRefusedError: a bound was broken (huggingface_hub never retries it).
    """
    _install()
    token = _active.set(_Bounds(what, max_bytes, time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _active.reset(token)
