"""CORS for the paths browsers call directly, and only those.

A dialect names its prefixes (``Dialect.cors_prefixes``); requests under them go through
Starlette's CORSMiddleware (preflights answered, ``Access-Control-Allow-Origin`` on every
answer), every other path is untouched. Any origin is allowed: keys travel in headers, never in
cookies, so a page can only use a key its user typed in.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

#: Seconds a browser may cache a preflight answer.
PREFLIGHT_MAX_AGE = 600


class ScopedCORS:
    """CORSMiddleware for paths starting with one of ``prefixes``; the app alone elsewhere."""

    def __init__(self, app: ASGIApp, *, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.prefixes = prefixes
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],
            max_age=PREFLIGHT_MAX_AGE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(self.prefixes):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
