"""Apiframe v1 error envelopes: one status table, one renderer, one route class.

Every error is JSON (the SDK crashes with ``UnboundLocalError`` on a non-JSON error body):
``{"errors": [{"msg": ...}], "message": ..., "code": ...}``, the docs' ``errors`` plus the
``message`` the SDK raises with and a ``code`` it copies to ``ApiframeError.code``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from selfjourney.dialects.routing import Envelope, body_error, enveloped_route
from selfjourney.domain import errors

INVALID = (400, "INVALID_REQUEST")
AUTH = (401, "AUTHENTICATION_ERROR")

#: Every domain error, to the HTTP status and ``code`` Apiframe v1 answers it with.
#: An inactive (revoked) key is a 401 like an unknown one, so the SDK raises its
#: ``AuthenticationError`` for both.
STATUS: dict[type[errors.SelfjourneyError], tuple[int, str]] = {
    errors.SelfjourneyError: (500, "INTERNAL_ERROR"),
    errors.InvalidInput: INVALID,
    errors.InvalidAspectRatio: INVALID,
    errors.InvalidImage: INVALID,
    errors.InvalidMask: INVALID,
    errors.UnsafeUrl: INVALID,
    errors.UnknownModel: INVALID,
    errors.AuthError: AUTH,
    errors.MissingKey: AUTH,
    errors.InvalidKey: AUTH,
    errors.InactiveKey: AUTH,
    errors.NotFound: (404, "NOT_FOUND"),
    errors.InvalidParent: (400, "INVALID_PARENT"),
    errors.ActionUnavailable: (409, "ACTION_UNAVAILABLE"),
    errors.IdempotencyConflict: (409, "CONFLICT"),
    errors.InsufficientCredits: (402, "INSUFFICIENT_CREDITS"),
    errors.RateLimited: (429, "RATE_LIMIT_ERROR"),
    errors.Unsupported: (501, "NOT_IMPLEMENTED"),
    errors.InvalidTransition: (500, "INTERNAL_ERROR"),
}


#: Core field names to v1's: the factor, mode and strength of an action are its ``type``.
FIELDS = {"factor": "type", "mode": "type", "strength": "type"}
_REFERENCE = re.compile(r"^references\.(\d+)$")


def wire_field(core_field: str) -> str:
    """A core field name as the caller spelled it (``references.1`` is ``image_urls.1``)."""
    if match := _REFERENCE.match(core_field):
        return f"image_urls.{match.group(1)}"
    return FIELDS.get(core_field, core_field)


def _status(exc: errors.SelfjourneyError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    raise AssertionError("SelfjourneyError is mapped")  # pragma: no cover


def envelope(status: int, code: str, items: list[dict[str, str]], **extra: Any) -> JSONResponse:
    message = "; ".join(f"{i['path']}: {i['msg']}" if "path" in i else i["msg"] for i in items)
    body = {"errors": items, "message": message, "code": code, **extra}
    return JSONResponse(body, status_code=status)


def error_response(exc: errors.SelfjourneyError) -> JSONResponse:
    status, code = _status(exc)
    if isinstance(exc, errors.InvalidInput) and exc.field:
        path, message = wire_field(exc.field), exc.message
        if message.startswith(exc.field):  # "references.0 must use https://"
            message = path + message.removeprefix(exc.field)
        return envelope(status, code, [{"msg": message, "path": path, "location": "body"}])
    if isinstance(exc, errors.NotFound):
        return envelope(status, code, [{"msg": f"Task {exc.job_id} not found"}])
    if isinstance(exc, errors.InsufficientCredits):
        item = {"msg": f"Insufficient credits: this costs {exc.required}, {exc.available} left"}
        extra = {"credits_required": exc.required, "credits_available": exc.available}
        return envelope(status, code, [item], **extra)
    return envelope(status, code, [{"msg": exc.message}])


def http_error_response(exc: HTTPException) -> JSONResponse:
    """FastAPI's own refusals (a body it cannot read at all) in the v1 envelope."""
    code = INVALID[1] if exc.status_code == 400 else f"HTTP_{exc.status_code}"
    return envelope(exc.status_code, code, [{"msg": str(exc.detail)}])


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """A 400 listing each bad field, e.g. ``{"msg": "Field required", "path": "prompt"}``."""
    items: list[dict[str, str]] = []
    for item in exc.errors():
        whole = body_error(item)
        path = "" if whole else _path(item.get("loc", ()))
        entry = {"msg": whole or _message(item)}
        if path:
            entry.update(path=path, location="body")
        items.append(entry)
    return envelope(*INVALID, items or [{"msg": "Invalid request"}])


def _path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts)


def _message(item: Any) -> str:
    return str(item.get("msg", "Invalid value")).removeprefix("Value error, ")


#: v1 routes render every refusal in the v1 envelope the official SDK parses.
V1Route = enveloped_route(Envelope(validation_response, error_response, http_error_response))
