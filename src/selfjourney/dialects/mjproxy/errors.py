"""midjourney-proxy refusals: one table of (HTTP status, code), one envelope, one route class.

Submit refusals are HTTP 200 with the code in the body, as the sources answer (spec §1.3):
code 4 for everything a client can fix, 3 only for an unknown task id (new-api disables a
channel that answers 3), 9 for a bug, 23 (the sources' "queue rejected", HTTP 429 with
``Retry-After``) for a key over its rate limit: new-api bills none of them. A missing key is
HTTP 401, an unknown id 404, a body that is not a JSON object 400; every answer is the JSON
envelope, never an empty body.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from selfjourney.dialects.routing import Envelope, enveloped_route
from selfjourney.domain import errors

log = logging.getLogger(__name__)

SUCCESS, NOT_FOUND, VALIDATION_ERROR, FAILURE, MODAL, QUEUE_REJECTED = 1, 3, 4, 9, 21, 23

#: Every domain error, to the HTTP status and envelope code used for it.
STATUS: dict[type[errors.SelfjourneyError], tuple[int, int]] = {
    errors.SelfjourneyError: (500, FAILURE),
    errors.InvalidInput: (200, VALIDATION_ERROR),
    errors.InvalidAspectRatio: (200, VALIDATION_ERROR),
    errors.InvalidImage: (200, VALIDATION_ERROR),
    errors.InvalidMask: (200, VALIDATION_ERROR),
    errors.UnsafeUrl: (200, VALIDATION_ERROR),
    errors.UnknownModel: (200, VALIDATION_ERROR),
    errors.AuthError: (401, VALIDATION_ERROR),
    errors.MissingKey: (401, VALIDATION_ERROR),
    errors.InvalidKey: (401, VALIDATION_ERROR),
    errors.InactiveKey: (401, VALIDATION_ERROR),
    errors.NotFound: (404, NOT_FOUND),
    errors.InvalidParent: (200, VALIDATION_ERROR),
    errors.ActionUnavailable: (200, VALIDATION_ERROR),
    errors.IdempotencyConflict: (200, VALIDATION_ERROR),
    errors.InsufficientCredits: (200, VALIDATION_ERROR),
    errors.RateLimited: (429, QUEUE_REJECTED),
    errors.Unsupported: (200, VALIDATION_ERROR),
    errors.InvalidTransition: (500, FAILURE),
}

BAD_KEY = "invalid or missing API key: send it in the mj-api-secret header"
#: Core field names to this dialect's JSON names.
FIELDS = {
    "webhook_url": "notifyHook",
    "mask": "maskBase64",
    "references": "base64Array",
    "aspect_ratio": "--ar",
}
_IMAGE_FIELD = re.compile(r"\bimages\.(\d+)\b")
#: The Dooy client opens its modal on any description containing "confirm" (spec §7).
_CONFIRM = re.compile("confirm", re.IGNORECASE)


def envelope(
    code: int, description: str, status: int = 200, properties: dict[str, Any] | None = None
) -> JSONResponse:
    """``{"code", "description", "result": null, "properties"}``: a refusal."""
    if code != MODAL:
        description = _CONFIRM.sub("c*nfirm", description)
    body = {"code": code, "description": description, "result": None}
    return JSONResponse({**body, "properties": properties or {}}, status_code=status)


def error_response(exc: errors.SelfjourneyError) -> JSONResponse:
    status, code = STATUS[type(exc)]
    properties = None
    if isinstance(exc, errors.InsufficientCredits):
        properties = {"creditsRequired": exc.required, "creditsAvailable": exc.available}
    return envelope(code, describe(exc), status, properties)


def describe(exc: errors.SelfjourneyError) -> str:
    if isinstance(exc, errors.AuthError):
        return BAD_KEY
    if isinstance(exc, errors.NotFound):
        return f"task not found: {exc.job_id}"
    if isinstance(exc, errors.InsufficientCredits):
        return f"insufficient credits: this costs {exc.required}, the key has {exc.available}"
    if isinstance(exc, errors.InvalidInput) and exc.field:
        return _wire_fields(exc.message, exc.field)
    return _IMAGE_FIELD.sub(r"base64Array[\1]", exc.message)


def _wire_fields(message: str, field: str) -> str:
    wire = _IMAGE_FIELD.sub(r"base64Array[\1]", FIELDS.get(field, field))
    message = re.sub(rf"\b{re.escape(field)}\b", wire, message)
    message = _IMAGE_FIELD.sub(r"base64Array[\1]", message)
    return message if message.startswith(wire) else f"{wire}: {message}"


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """A body that is not a JSON object is HTTP 400; a field the schema refuses, HTTP 200."""
    items = list(exc.errors())
    if any(_not_an_object(item) for item in items):
        return envelope(VALIDATION_ERROR, "the request body must be a JSON object", 400)
    problems = "; ".join(f"{_path(item.get('loc', ()))}: {_reason(item)}" for item in items)
    return envelope(VALIDATION_ERROR, f"invalid request: {problems}")


def _not_an_object(item: Any) -> bool:
    loc = tuple(item.get("loc", ()))
    return item.get("type") == "json_invalid" or loc == ("body",)


def _path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _reason(item: Any) -> str:
    return str(item.get("msg", "invalid")).removeprefix("Value error, ")


def http_error_response(exc: HTTPException) -> Response:
    code = FAILURE if exc.status_code >= 500 else VALIDATION_ERROR
    return envelope(code, str(exc.detail), exc.status_code)


def list_validation_response(exc: RequestValidationError) -> JSONResponse:
    """A list route answers HTTP 200 with an array only: a refused body is HTTP 400."""
    response = validation_response(exc)
    response.status_code = 400
    return response


def _with_bug_envelope(
    handler: Callable[[Request], Coroutine[Any, Any, Response]],
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    async def route(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except Exception:
            log.exception("unhandled error in %s", request.url.path)
            return envelope(FAILURE, "internal error", 500)
        return response

    return route


_Enveloped = enveloped_route(Envelope(validation_response, error_response, http_error_response))
_EnvelopedList = enveloped_route(
    Envelope(list_validation_response, error_response, http_error_response)
)


class MjProxyRoute(_Enveloped):  # type: ignore[valid-type,misc]
    """Refusals in the envelope; an unexpected bug is HTTP 500 with code 9, still JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return _with_bug_envelope(super().get_route_handler())


class MjProxyListRoute(_EnvelopedList):  # type: ignore[valid-type,misc]
    """A route whose HTTP 200 is always an array (list-by-condition: new-api decodes it as
    one), so a body it refuses is HTTP 400, never an envelope with 200."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return _with_bug_envelope(super().get_route_handler())
