"""Routes whose errors come out in the dialect's own envelope: one mechanism for every dialect."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Message

from selfjourney.domain.errors import SelfjourneyError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Envelope:
    """How a dialect renders each kind of refusal."""

    validation: Callable[[RequestValidationError], Response]
    domain: Callable[[SelfjourneyError], Response]
    #: FastAPI's own refusals raised inside a route (e.g. a body that is not UTF-8).
    http: Callable[[HTTPException], Response]
    #: Anything else a route raises (a bug), logged; None leaves it to the app's 500 handler.
    unexpected: Callable[[], Response] | None = None
    #: The most bytes a route's body may have, by its path (None: no limit); past it, ``http``
    #: renders a 413, by the declared length before the body is read, else as it is read.
    body_limit: Callable[[str], int | None] | None = None


def enveloped_route(envelope: Envelope) -> type[APIRoute]:
    """An APIRoute class whose validation, domain and HTTP errors use ``envelope``."""

    class EnvelopedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()
            limit = envelope.body_limit(self.path) if envelope.body_limit else None

            async def route(request: Request) -> Response:
                try:
                    if limit is not None:
                        request = limited(request, limit)
                    return await handler(request)
                except RequestValidationError as exc:
                    return envelope.validation(exc)
                except SelfjourneyError as exc:
                    return envelope.domain(exc)
                except HTTPException as exc:
                    return envelope.http(exc)
                except Exception:
                    if envelope.unexpected is None:
                        raise
                    log.exception("unhandled error in %s %s", request.method, request.url.path)
                    return envelope.unexpected()

            return route

    return EnvelopedRoute


def limited(request: Request, limit: int) -> Request:
    """The request, refused with a 413 once its body passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    receive, received = request.receive, 0

    async def counting() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
        return message

    return Request(request.scope, counting)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"The request body is larger than {limit} bytes, this route's limit.")
