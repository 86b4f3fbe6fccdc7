"""A real webhook receiver for tests: uvicorn serving a tiny ASGI app in a background thread.

Usage::

    with WebhookReceiver() as receiver:
        receiver.reply_with([500, Reply(204, delay=0.5)])  # then 204 forever
        ...  # make the code under test POST to receiver.url
        first, second = receiver.wait_for(2)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from tests.server import ThreadedServer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it; ``json`` is None when the body is not JSON."""

    path: str
    headers: dict[str, str]
    body: bytes
    json: Any


@dataclass(frozen=True)
class Reply:
    """How to answer one request; a 3xx gets a Location header unless one is given."""

    status: int = 204
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


class WebhookReceiver:
    """Records every request and answers from a programmable plan, then 204."""

    def __init__(self, path: str = "/hook") -> None:
        self._path = path
        self._received: list[Received] = []
        self._plan: deque[Reply] = deque()
        self._changed = threading.Condition()
        self._server = ThreadedServer(
            self._app,
            access_log=False,
            lifespan="off",
            interface="asgi3",
            proxy_headers=False,
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self.port = self._server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self._path}"

    @property
    def requests(self) -> list[Received]:
        with self._changed:
            return list(self._received)

    def reply_with(self, replies: Iterable[int | Reply]) -> None:
        """Queue the answers for the next requests, in order; afterwards the default is 204."""
        with self._changed:
            self._plan.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def reset(self) -> None:
        """Forget recorded requests and pending replies, so one receiver can serve many tests."""
        with self._changed:
            self._received.clear()
            self._plan.clear()

    def wait_for(self, n: int, timeout: float = 10) -> list[Received]:
        """Block until ``n`` requests have arrived; fail the test with what did arrive."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._received) >= n, timeout):
                got = [(r.path, r.body[:80]) for r in self._received]
                raise AssertionError(f"expected {n} webhook requests within {timeout}s, got {got}")
            return list(self._received)

    def __enter__(self) -> WebhookReceiver:
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
        body = await _read_body(receive)
        reply = self._record(scope, body)
        if reply.delay:
            # Stop waiting early if the client gives up, so shutdown is not held up.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_until_disconnect(receive), reply.delay)
        headers = [(k.encode(), v.encode()) for k, v in _reply_headers(reply)]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})

    def _record(self, scope: Scope, body: bytes) -> Reply:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        with self._changed:
            self._received.append(Received(scope["path"], headers, body, parsed))
            self._changed.notify_all()
            return self._plan.popleft() if self._plan else Reply()


def _reply_headers(reply: Reply) -> list[tuple[str, str]]:
    headers = list(reply.headers)
    if 300 <= reply.status < 400 and not any(k.lower() == "location" for k, _ in headers):
        headers.append(("location", "/redirected"))
    return headers


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return body
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body", False):
            return body


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
