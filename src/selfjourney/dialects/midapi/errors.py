"""midapi envelopes for refusals: one code table, one renderer, one route class.

midapi answers HTTP 200 to everything, with the real status in the body's ``code`` (the sister
service tested against the real one does so, and every client reads ``code``; spec §1). We do
the same; only an unexpected bug escapes as HTTP 500 from the app's own handler.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from selfjourney.dialects.routing import NOT_JSON, Envelope, body_error, enveloped_route
from selfjourney.domain import errors

#: Every domain error, to the midapi body code used for it.
STATUS: dict[type[errors.SelfjourneyError], int] = {
    errors.SelfjourneyError: 500,
    errors.InvalidInput: 422,
    errors.InvalidAspectRatio: 422,
    errors.InvalidImage: 422,
    errors.InvalidMask: 422,
    errors.UnsafeUrl: 422,
    errors.UnknownModel: 422,
    errors.AuthError: 401,
    errors.MissingKey: 401,
    errors.InvalidKey: 401,
    errors.InactiveKey: 401,
    errors.NotFound: 404,
    errors.InvalidParent: 422,
    errors.ActionUnavailable: 422,
    errors.IdempotencyConflict: 422,
    errors.InsufficientCredits: 402,
    errors.RateLimited: 429,
    errors.Unsupported: 505,
    errors.InvalidTransition: 500,
}

#: Kie's wording for a missing or bad key, followed by what exactly was wrong.
ACCESS_DENIED = "You do not have access permissions"
#: Core field names to this dialect's JSON names.
FIELDS = {"aspect_ratio": "aspectRatio", "webhook_url": "callBackUrl", "prompt": "prompt"}
_REFERENCE = re.compile(r"^references\.(\d+)$")


def envelope(code: int, msg: str) -> JSONResponse:
    """``{"code", "msg", "data": null}`` with HTTP 200, as midapi answers."""
    return JSONResponse({"code": code, "msg": msg, "data": None}, status_code=200)


def error_response(exc: errors.SelfjourneyError) -> JSONResponse:
    return envelope(STATUS[type(exc)], _message(exc))


def _message(exc: errors.SelfjourneyError) -> str:
    if isinstance(exc, errors.AuthError):
        return f"{ACCESS_DENIED}: {exc.message}"
    if isinstance(exc, errors.InsufficientCredits):
        return (
            f"Insufficient credits: this task costs {exc.required} credits "
            f"and the balance is {exc.available}"
        )
    if isinstance(exc, errors.NotFound):
        return exc.message.replace("Job", "Task")
    if isinstance(exc, errors.InvalidInput) and exc.field:
        field = wire_field(exc.field)
        message = exc.message.replace(exc.field, field)
        return message if message.startswith(field) else f"{field}: {message}"
    return exc.message


def wire_field(core_field: str) -> str:
    """A core field name as the caller spelled it (``references.1`` is ``fileUrls[1]``)."""
    if match := _REFERENCE.match(core_field):
        return f"fileUrls[{match.group(1)}]"
    return FIELDS.get(core_field, core_field)


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """Malformed JSON is a 400; a body or query that fails the schema is a 422."""
    items = list(exc.errors())
    if any(item.get("type") == "json_invalid" for item in items):
        return envelope(400, "Bad Request: the request body is not valid JSON")
    if any(body_error(item) == NOT_JSON for item in items):
        return envelope(400, f"Bad Request: {NOT_JSON}")
    problems = "; ".join(f"{_path(item.get('loc', ()))}: {_reason(item)}" for item in items)
    return envelope(422, f"Validation Error: {problems}")


def _path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _reason(item: Any) -> str:
    if item.get("type") == "missing" and tuple(item.get("loc", ())) == ("body",):
        return "a JSON request body is required"
    return str(item.get("msg", "invalid")).removeprefix("Value error, ")


def http_error_response(exc: HTTPException) -> Response:
    return envelope(exc.status_code, str(exc.detail))


#: midapi routes answer HTTP 200 with the real status in the body's ``code``.
MidapiRoute = enveloped_route(Envelope(validation_response, error_response, http_error_response))
