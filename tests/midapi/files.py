"""A tiny static file server for reference images (``fileUrls``), on a free loopback port.

Usage::

    with FileServer({"/fox.png": png_bytes}) as files:
        files.url("/fox.png")  # http://127.0.0.1:PORT/fox.png; unknown paths answer 404
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import Any

from tests.server import ThreadedServer

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".txt": "text/plain"}


class FileServer:
    """Serves fixed bytes by path; records the paths asked for."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.requested: list[str] = []
        self._server = ThreadedServer(self._app, lifespan="off", interface="asgi3")

    def url(self, path: str) -> str:
        return f"{self._server.url}{path}"

    def __enter__(self) -> FileServer:
        self._server.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.__exit__(exc_type, exc, tb)

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        self.requested.append(path)
        body = self.files.get(path)
        status = 200 if body is not None else 404
        kind = CONTENT_TYPES.get(path[path.rfind(".") :], "application/octet-stream")
        # Close after each answer, so no kept-alive socket outlives a test's runtime.
        headers = [(b"content-type", kind.encode()), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body or b"not found"})
