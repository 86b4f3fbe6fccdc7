"""Routes whose errors come out in the dialect's own envelope: one mechanism for every dialect."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Message

from selfjourney.domain.errors import RateLimited, SelfjourneyError

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


#: A body that was not sent as JSON: FastAPI reads a JSON body only under that content type.
NOT_JSON = "the request body must be JSON, sent with the header Content-Type: application/json"
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "dict_type", "model_type"})


def body_error(item: Mapping[str, Any]) -> str | None:
    """A plain message when a validation error is about the body as a whole, else None.

    Malformed JSON says so with the parser's reason and where (a character offset is not a
    field); a body sent without ``Content-Type: application/json`` (FastAPI then keeps the raw
    bytes) says which header is missing; JSON that is not an object says that.
    """
    kind = item.get("type")
    loc = tuple(item.get("loc", ()))
    if kind == "json_invalid":
        # The parser's reason, e.g. "Expecting ',' delimiter" or "Unterminated string starting
        # at", then where: "... at character 31".
        reason = str((item.get("ctx") or {}).get("error") or "").removesuffix(" at")
        where = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
        return "request body is not valid JSON" + (f": {reason}{where}" if reason else where)
    if loc != ("body",):
        return None
    if kind == "missing":
        return "a JSON request body is required"
    if kind in _NOT_AN_OBJECT:
        return (
            NOT_JSON
            if isinstance(item.get("input"), bytes)
            else "request body must be a JSON object"
        )
    return None


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
                    return _with_retry_after(envelope.domain(exc), exc)
                except HTTPException as exc:
                    return envelope.http(exc)
                except Exception:
                    if envelope.unexpected is None:
                        raise
                    log.exception("unhandled error in %s %s", request.method, request.url.path)
                    return envelope.unexpected()

            return route

    return EnvelopedRoute


def _with_retry_after(response: Response, exc: SelfjourneyError) -> Response:
    """A rate-limit refusal says when to come back, whatever the dialect's envelope."""
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


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
