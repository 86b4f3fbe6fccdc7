"""Serve an ASGI app with uvicorn in a background thread, on a free loopback port."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 15.0


class _Server(uvicorn.Server):
    """Signals readiness (or failure to start) through an Event instead of being polled."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self._ready.set()


class ThreadedServer:
    """Usage: ``with ThreadedServer(app) as server: httpx.get(server.url + "/v2/models")``.

    ``port`` 0 takes a free one; extra keyword arguments go to ``uvicorn.Config``.
    """

    def __init__(self, app: Any, port: int = 0, **config: Any) -> None:
        # IPPROTO_TCP so that asyncio sets TCP_NODELAY on accepted sockets (no Nagle delays).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        options: dict[str, Any] = {"log_config": None, "log_level": "warning", "lifespan": "on"}
        self._ready = threading.Event()
        self._server = _Server(uvicorn.Config(app, **{**options, **config}), self._ready)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        if not self._ready.wait(STARTUP_TIMEOUT) or not self._server.started:
            self.__exit__(None, None, None)
            raise RuntimeError("server did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(SHUTDOWN_TIMEOUT)
        self._sock.close()
        if self._thread.is_alive():
            raise RuntimeError("server did not stop")
