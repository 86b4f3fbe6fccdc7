"""Routes whose errors come out in the dialect's own envelope: one mechanism for every dialect."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
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
