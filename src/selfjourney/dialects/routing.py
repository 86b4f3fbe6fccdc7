"""Routes whose errors come out in the dialect's own envelope: one mechanism for every dialect."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from selfjourney.domain.errors import SelfjourneyError


@dataclass(frozen=True)
class Envelope:
    """How a dialect renders each kind of refusal."""

    validation: Callable[[RequestValidationError], Response]
    domain: Callable[[SelfjourneyError], Response]
    #: FastAPI's own refusals raised inside a route (e.g. a body that is not UTF-8).
    http: Callable[[HTTPException], Response]


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

            async def route(request: Request) -> Response:
                try:
                    return await handler(request)
                except RequestValidationError as exc:
                    return envelope.validation(exc)
                except SelfjourneyError as exc:
                    return envelope.domain(exc)
                except HTTPException as exc:
                    return envelope.http(exc)

            return route

    return EnvelopedRoute
