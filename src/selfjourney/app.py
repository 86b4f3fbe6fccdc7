"""``create_app(settings)``: the API, the workers and the webhook dispatcher, wired once."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from selfjourney import __version__
from selfjourney.config import Misconfigured, Settings
from selfjourney.core.service import Service
from selfjourney.dialects import apiframe_v1, midapi
from selfjourney.dialects.apiframe_v2 import render as v2_render
from selfjourney.dialects.apiframe_v2.routes import router as v2_router
from selfjourney.engines.base import Engine
from selfjourney.engines.procedural import ProceduralEngine
from selfjourney.engines.upscale import make_upscaler
from selfjourney.queue.janitor import Janitor
from selfjourney.queue.local import LocalQueue
from selfjourney.queue.runner import JobRunner
from selfjourney.storage.base import Storage
from selfjourney.storage.fetch import MAX_SECONDS, fetch_image
from selfjourney.storage.local import LocalStorage
from selfjourney.store import Store
from selfjourney.store.database import Clock, utcnow
from selfjourney.webhooks.dispatcher import Dispatcher
from selfjourney.webhooks.events import Events, WebhookStyle
from selfjourney.webhooks.guard import guarded_client
from selfjourney.webhooks.policy import RetryPolicy

log = logging.getLogger(__name__)


def _diffusers_engine(settings: Settings) -> Engine:
    """Imported here so the embedded default runs without torch installed."""
    try:
        from selfjourney.engines.diffusers import DiffusersEngine
    except ImportError as exc:
        raise Misconfigured(
            f"the diffusers engine needs torch and diffusers ({exc}): install them with "
            "pip install 'torch==2.13.0' 'selfjourney[diffusers]' (make test does), or use "
            "the procedural engine"
        ) from exc

    return DiffusersEngine(
        settings.model,
        steps=settings.steps,
        guidance=settings.guidance,
        local_files_only=settings.local_files_only,
        device=settings.device,
        dtype=settings.dtype,
        concurrent_renders=settings.concurrent_renders,
        max_side=settings.max_side,
        warmup=settings.warmup,
    )


#: The engines ``--engine`` can name, each built from the settings.
ENGINES: dict[str, Callable[[Settings], Engine]] = {
    "procedural": lambda _settings: ProceduralEngine(),
    "diffusers": _diffusers_engine,
}


@dataclass
class Runtime:
    """Everything a running server holds; tests build one with fakes swapped in."""

    settings: Settings
    store: Store
    storage: Storage
    engine: Engine
    queue: LocalQueue
    runner: JobRunner
    events: Events
    dispatcher: Dispatcher
    service: Service
    janitor: Janitor
    #: Downloads reference images; closed with the runtime.
    fetch_client: httpx.Client

    def start(self) -> None:
        """Re-queue what a previous process left unfinished, then start working."""
        for job_id in self.store.jobs.recover():
            self.queue.enqueue(job_id)
        self.queue.start()
        self.dispatcher.start()
        self.janitor.start()

    def stop(self) -> None:
        self.janitor.stop()
        self.queue.stop()
        self.dispatcher.stop()
        self.fetch_client.close()
        self.store.close()


def build_runtime(
    settings: Settings,
    storage: Storage | None = None,
    engine: Engine | None = None,
    clock: Clock = utcnow,
) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.connect(settings.db_url, clock)
    storage = storage or LocalStorage(settings.data_dir, settings.base_url)
    engine = engine or ENGINES[settings.engine](settings)
    events = Events(
        store,
        {
            v2_render.DIALECT: WebhookStyle(v2_render.webhook_payload),
            midapi.DIALECT: midapi.webhook_style(settings),
            apiframe_v1.DIALECT: apiframe_v1.webhook_style(settings),
        },
        storage.url,
        settings.webhook_max_attempts,
        settings.webhook_progress_interval,
    )
    fetch_client = guarded_client(settings.webhook_allow_private, MAX_SECONDS)
    runner = JobRunner(
        store,
        storage,
        engine,
        events,
        settings.png_compress_level,
        settings.render_delay,
        fetch=partial(fetch_image, fetch_client),
        upscaler=make_upscaler(
            settings.upscaler,
            settings.upscaler_model,
            settings.upscaler_threads,
            settings.upscaler_tile,
            settings.upscaler_device,
        ),
    )
    queue = LocalQueue(runner, settings.workers)
    runner.requeue = lambda job_id, defer: _later(defer, queue.enqueue, job_id)
    policy = RetryPolicy(settings.webhook_max_attempts, settings.webhook_backoff)
    client = guarded_client(settings.webhook_allow_private, settings.webhook_timeout)
    dispatcher = Dispatcher(
        store.deliveries, client, policy, settings.webhook_concurrency, settings.webhook_timeout
    )
    events.notify = dispatcher.notify
    service = Service(
        store,
        storage,
        queue,
        settings.costs,
        settings.webhook_allow_private,
        max(1, settings.workers),  # jobs that can render at once: the worker threads
        runner.run_claimed if settings.inline_upsample else None,
        # Remembering keys saves a thread hop per request when the database is remote; with
        # local SQLite reads the look-up is cheaper than the hop and revocation stays instant.
        auth_cache_seconds=0.0 if store.db.reads_are_local else 1.0,
    )
    janitor = Janitor(
        store,
        storage,
        runner.fail,
        settings.job_timeout,
        settings.retention_days,
        settings.janitor_interval,
    )
    return Runtime(
        settings,
        store,
        storage,
        engine,
        queue,
        runner,
        events,
        dispatcher,
        service,
        janitor,
        fetch_client,
    )


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """The ASGI app. Workers start with the app's lifespan and stop with it."""
    runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.stop()

    app = FastAPI(
        title="selfjourney",
        version=__version__,
        description=(
            "A self-hosted, Midjourney-compatible image API: the Apiframe v2 (/v2), "
            "midapi.ai (/api/v1) and Apiframe v1 (/imagine, /fetch, ...) wire formats."
        ),
        lifespan=lifespan,
    )
    app.openapi = partial(_openapi_without_422, app)  # type: ignore[method-assign]
    app.state.runtime = runtime
    app.state.service = runtime.service
    app.include_router(v2_router)
    app.include_router(midapi.router)
    app.include_router(apiframe_v1.router)
    app.include_router(apiframe_v1.pro_router)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    images = settings.data_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    app.mount("/cdn/images", StaticFiles(directory=images), name="cdn")
    app.add_middleware(RequestIdMiddleware)
    return app


class RequestIdMiddleware:
    """Puts an ``X-Request-Id`` on every response (the caller's, when it sent a sane one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


def _incoming_id(scope: Scope) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"x-request-id" and 0 < len(value) <= 128 and value.isascii():
            text = value.decode()
            return text if text.isprintable() else None
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


def _later(delay: float, call: object, job_id: str) -> None:
    assert callable(call)
    if delay <= 0:
        call(job_id)
        return
    timer = threading.Timer(delay, call, (job_id,))
    timer.daemon = True
    timer.start()
