"""What operators and orchestrators call: ``/healthz``, ``/readyz``, ``/metrics``, and the
middleware counting every request by its route template.

None of these is in the OpenAPI document: they are the process's, not the API's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from selfjourney.observe.health import Probes
from selfjourney.observe.metrics import HTTP_REQUESTS, HTTP_SECONDS, Exposition

#: Methods counted by name; anything else is counted as ``other`` (labels stay few).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def add_ops(app: FastAPI, *, probes: Probes, exposition: Exposition) -> None:
    """Mount the probes and the metrics on ``app``, and count its requests."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """The process is up and its event loop answers; nothing else is checked."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready for traffic: every dependency answered (else 503, naming what did not)."""
        ready, checks = await probes.run()
        status = "ok" if ready else "unavailable"
        return JSONResponse({"status": status, "checks": checks}, 200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        """Prometheus text (or OpenMetrics when asked); a sync route, so the fleet queries
        run on a worker thread."""
        body, content_type = exposition.render(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    app.add_middleware(HttpMetrics, routes=app.router.routes)


class HttpMetrics:
    """Counts and times each request under its route template (``/v2/jobs/{id}``), never its
    raw path, so job ids and scanners' guesses do not become label values."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived, started, status = dict(scope), time.perf_counter(), 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = _template(scope, arrived, self.routes)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_SECONDS.labels(method, route).observe(time.perf_counter() - started)


def _template(scope: Scope, arrived: Scope, routes: Sequence[BaseRoute]) -> str:
    """The route FastAPI matched; else (a mount, a 404 or 405) the first route matching the
    request as it arrived, or ``unmatched``."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    partial = None
    for route in routes:
        match, _ = route.matches(arrived)
        if match is Match.FULL:
            return str(getattr(route, "path", "unmatched"))
        if match is Match.PARTIAL and partial is None:
            partial = str(getattr(route, "path", "unmatched"))
    return partial or "unmatched"
