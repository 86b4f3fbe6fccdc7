"""``create_app``: the FastAPI app of every dialect over one service, and what every route shares
(request ids, the 500 envelope, an OpenAPI document without FastAPI's generic 422, the probes
and metrics of ``ops``)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client.registry import Collector
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from selfjourney import __version__
from selfjourney.api.cors import ScopedCORS
from selfjourney.api.ops import add_ops
from selfjourney.api.pages import add_pages
from selfjourney.dialects.base import Dialect
from selfjourney.dialects.deps import EventStreams
from selfjourney.dialects.registry import DIALECTS
from selfjourney.observe.health import Probe, Probes
from selfjourney.observe.logs import request_id
from selfjourney.observe.metrics import Exposition
from selfjourney.service import Service

log = logging.getLogger(__name__)

#: A caller's ``X-Request-ID`` is kept when it is 1-128 of these characters, else replaced.
REQUEST_ID = re.compile(rb"[A-Za-z0-9._~:/+=@-]{1,128}")


class Lifecycle(Protocol):
    """What runs beside the API in its process (workers, the dispatcher), started and stopped
    with the app."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def create_app(
    *,
    service: Service,
    dialects: tuple[Dialect, ...] = DIALECTS,
    images_dir: Path | None = None,
    lifecycle: Lifecycle | None = None,
    events_keepalive: float = 15.0,
    probes: Mapping[str, Probe] | None = None,
    probe_timeout: float = 2.0,
    metrics: Collector | None = None,
) -> FastAPI:
    """The ASGI app: every dialect's routes over one service.

    The playground is at ``/`` and the API docs at ``/docs`` and ``/redoc`` (``pages``).
    ``images_dir`` (local storage) is served at ``/cdn/images``; ``lifecycle`` starts and stops
    with the app's lifespan; ``events_keepalive`` is the seconds between keep-alive comments of
    an idle event stream. ``/readyz`` runs ``probes`` (each raises when its dependency is
    down) with ``probe_timeout``; ``/metrics`` adds the fleet-wide ``metrics`` to this
    process's own.
    """
    checks = Probes(probes or {}, timeout=probe_timeout)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if lifecycle is not None:
            lifecycle.start()
        try:
            yield
        finally:
            if lifecycle is not None:
                lifecycle.stop()

    app = FastAPI(
        title="selfjourney",
        version=__version__,
        description=(
            "A self-hosted, Midjourney-compatible image API: the Apiframe v2 (/v2), "
            "midapi.ai (/api/v1), Apiframe v1 (/imagine, /fetch, ...), midjourney-proxy "
            "(/mj/...) and OpenAI Images (/v1/images/..., /v1/models) wire formats."
        ),
        lifespan=lifespan,
        docs_url=None,  # served by add_pages, from files in this process (no CDN)
        redoc_url=None,
    )
    app.openapi = partial(_openapi_without_422, app)  # type: ignore[method-assign]
    app.state.service = service
    app.state.process = lifecycle
    app.state.streams = EventStreams(keepalive=events_keepalive)
    for dialect in dialects:
        for router in dialect.routers():
            app.include_router(router)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    if images_dir is not None:
        images_dir.mkdir(parents=True, exist_ok=True)
        app.mount("/cdn/images", StaticFiles(directory=images_dir), name="cdn")
    add_pages(app)
    add_ops(app, probes=checks, exposition=Exposition(*([metrics] if metrics else [])))
    cors_prefixes = tuple(prefix for dialect in dialects for prefix in dialect.cors_prefixes)
    if cors_prefixes:
        app.add_middleware(ScopedCORS, prefixes=cors_prefixes)
    app.add_middleware(RequestIdMiddleware)
    return app


def close_streams(app: FastAPI) -> None:
    """End the app's open event streams: call it from the event loop when shutting down, so a
    browser tab left open does not hold the server's graceful exit."""
    streams: EventStreams = app.state.streams
    streams.closing.set()


class RequestIdMiddleware:
    """Puts an ``X-Request-Id`` on every response (the caller's, when it sent a sane one), and
    keeps it in ``observe.logs.request_id`` so every log line of the request carries it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        this_id = _incoming_id(scope) or uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", this_id.encode()))
                message["headers"] = headers
            await send(message)

        token = request_id.set(this_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


def _incoming_id(scope: Scope) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"x-request-id":
            return value.decode() if REQUEST_ID.fullmatch(value) else None
    return None


def _openapi_without_422(app: FastAPI) -> dict[str, Any]:
    """FastAPI documents a 422 on every route; each dialect answers bad input its own way."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
    )


async def _server_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse({"error": "Internal server error"}, status_code=500)
