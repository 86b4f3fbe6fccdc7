"""Apiframe v2 error envelopes: one status table, one renderer, one route class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from selfjourney.dialects.apiframe_v2.models import ACTION_TAGS
from selfjourney.dialects.routing import Envelope, body_error, enveloped_route
from selfjourney.domain import errors

#: Every domain error, to the HTTP status Apiframe v2 uses for it.
STATUS: dict[type[errors.SelfjourneyError], int] = {
    errors.SelfjourneyError: 500,
    errors.InvalidInput: 400,
    errors.InvalidAspectRatio: 400,
    errors.InvalidImage: 400,
    errors.InvalidMask: 400,
    errors.UnsafeUrl: 400,
    errors.UnknownModel: 400,
    errors.AuthError: 401,
    errors.MissingKey: 401,
    errors.InvalidKey: 401,
    errors.InactiveKey: 403,
    errors.NotFound: 404,
    errors.InvalidParent: 400,
    errors.ActionUnavailable: 409,
    errors.IdempotencyConflict: 409,
    errors.InsufficientCredits: 402,
    errors.RateLimited: 429,
    errors.Unsupported: 501,
    errors.InvalidTransition: 500,
}

#: Core field names to this dialect's JSON paths.
FIELDS = {
    "aspect_ratio": "midjourneyParams.aspect_ratio",
    "webhook_url": "webhookUrl",
    "mask": "mask",
    "cursor": "cursor",
    "id": "id",
}


def error_response(exc: errors.SelfjourneyError) -> JSONResponse:
    status = STATUS[type(exc)]
    body: dict[str, Any] = {"error": exc.message}
    if isinstance(exc, errors.InvalidInput):
        field = FIELDS.get(exc.field, exc.field) or "body"
        message = exc.message.replace(exc.field, field) if exc.field else exc.message
        body = {"error": "Validation error", "details": {field: [message]}}
    elif isinstance(exc, errors.InsufficientCredits):
        body = {
            "error": "Insufficient credits",
            "creditsRequired": exc.required,
            "creditsAvailable": exc.available,
        }
    return JSONResponse(body, status_code=status)


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """A 400 ``{"error": "Validation error", "details": {path: [messages]}}``."""
    details: dict[str, list[str]] = {}
    for item in exc.errors():
        tagged = str(item.get("type", "")).startswith("union_tag_")
        whole = body_error(item)
        path = "action" if tagged else "body" if whole else _path(item.get("loc", ()))
        details.setdefault(path, []).append(whole or _message(item))
    return JSONResponse({"error": "Validation error", "details": details}, status_code=400)


def _path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    if parts and parts[0] in ACTION_TAGS:  # the discriminated union's branch name
        parts = parts[1:]
    return ".".join(parts) or "body"


def _message(item: Any) -> str:
    kind = item.get("type", "")
    if kind == "union_tag_invalid":
        return "action must be one of upsample, variation, inpaint, outpaint, pan"
    if kind == "union_tag_not_found":
        return "action is required (upsample, variation, inpaint, outpaint or pan)"
    message = str(item.get("msg", "Invalid"))
    return message.removeprefix("Value error, ")


def http_error_response(exc: HTTPException) -> JSONResponse:
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)


#: v2 routes render every refusal as ``{"error": ...}`` (plus ``details`` for validation).
V2Route = enveloped_route(Envelope(validation_response, error_response, http_error_response))
