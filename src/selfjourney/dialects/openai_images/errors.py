"""OpenAI's error envelope: one status table for domain errors, one exception for the
dialect's own refusals, one route class (body size limit, no bare 500s).

Every error is ``{"error": {"message", "type", "param", "code"}}`` with all four keys (null
when empty); the ``openai`` SDK builds its exception from it and picks the class by status.
``x-should-retry: false`` goes with answers a retry cannot fix or would pay for again (409,
429 insufficient_quota, 504), since the SDK retries 409, 429 and 5xx twice otherwise; a 429
``rate_limit_exceeded`` says ``true``, and the SDK waits its ``Retry-After`` first.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from selfjourney.dialects.routing import Envelope, enveloped_route
from selfjourney.domain import errors
from selfjourney.domain.jobs import Job

INVALID = "invalid_request_error"
SERVER = "server_error"
QUOTA = "insufficient_quota"

#: Every domain error, to OpenAI's (HTTP status, error type, error code).
STATUS: dict[type[errors.SelfjourneyError], tuple[int, str, str | None]] = {
    errors.SelfjourneyError: (500, SERVER, None),
    errors.InvalidInput: (400, INVALID, "invalid_value"),
    errors.InvalidAspectRatio: (400, INVALID, "invalid_value"),
    errors.InvalidImage: (400, INVALID, "invalid_image_file"),
    errors.InvalidMask: (400, INVALID, "invalid_image_file"),
    errors.UnsafeUrl: (400, INVALID, "invalid_value"),
    errors.UnknownModel: (400, INVALID, "invalid_value"),
    errors.AuthError: (401, INVALID, "invalid_api_key"),
    errors.MissingKey: (401, INVALID, None),
    errors.InvalidKey: (401, INVALID, "invalid_api_key"),
    errors.InactiveKey: (401, INVALID, "invalid_api_key"),
    errors.NotFound: (404, INVALID, "not_found"),
    errors.InvalidParent: (400, INVALID, "invalid_value"),
    errors.ActionUnavailable: (409, INVALID, "action_unavailable"),
    errors.IdempotencyConflict: (409, INVALID, "idempotency_conflict"),
    errors.InsufficientCredits: (429, QUOTA, QUOTA),
    errors.RateLimited: (429, "requests", "rate_limit_exceeded"),
    errors.Unsupported: (400, INVALID, "unsupported_value"),
    errors.InvalidTransition: (500, SERVER, None),
}
#: Statuses whose answer a retry cannot change (or would pay for again).
NO_RETRY = frozenset({409, 429, 504})
#: Core field names to this dialect's parameters.
FIELDS = {"aspect_ratio": "size", "index": None}
#: A JSON body (generations) and a multipart body (edits, variations), at most, in bytes.
JSON_LIMIT = 1024 * 1024
FORM_LIMIT = 64 * 1024 * 1024
FORM_PATHS = frozenset({"/v1/images/edits", "/v1/images/variations"})
MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)


class OpenAIError(HTTPException):
    """A refusal in OpenAI's envelope; raised by the dialect, rendered by its route class."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID,
        param: str | None = None,
        code: str | None = None,
        job_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        headers = dict(headers or {})
        if status in NO_RETRY:
            headers.setdefault("x-should-retry", "false")
        if job_id is not None:
            headers["X-Job-Id"] = job_id
        super().__init__(status, message, headers)
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.job_id = job_id

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "param": self.param,
            "code": self.code,
        }
        if self.job_id is not None:
            body["job_id"] = self.job_id
        return JSONResponse({"error": body}, status_code=self.status_code, headers=self.headers)


def from_domain(exc: errors.SelfjourneyError, message: str | None = None) -> OpenAIError:
    """A domain error as OpenAI answers it (the table above), optionally reworded."""
    status, kind, code = STATUS[type(exc)]
    param = None
    if isinstance(exc, errors.InvalidInput) and exc.field:
        param = FIELDS.get(exc.field, exc.field)
    if isinstance(exc, errors.InsufficientCredits):
        message = message or (
            f"You exceeded your current quota: this request costs {exc.required} credits and "
            f"the key has {exc.available}. Add credits with `selfjourney credits add`."
        )
    headers = None
    if isinstance(exc, errors.RateLimited):
        headers = {"x-should-retry": "true", "Retry-After": str(exc.retry_after)}
    return OpenAIError(
        status, message or exc.message, type=kind, param=param, code=code, headers=headers
    )


def auth_error(exc: errors.AuthError, key: str | None) -> OpenAIError:
    """401 for a missing, unknown or revoked key, worded as OpenAI words it."""
    if isinstance(exc, errors.MissingKey) or not key:
        return from_domain(exc, MISSING_KEY)
    shown = f"{key[:6]}…{key[-2:]}" if len(key) > 10 else "…"
    return from_domain(exc, f"Incorrect API key provided: {shown}.")


def generation_failed(job: Job) -> OpenAIError:
    """The job FAILED (and was refunded): a 500, which the SDK may retry as a new job."""
    reason = job.error or ""
    message = (
        reason
        if reason.startswith("Image generation failed")
        else (f"Image generation failed: {reason}" if reason else "Image generation failed")
    )
    return OpenAIError(500, message, type=SERVER, code="generation_failed", job_id=job.id)


def generation_timeout(job: Job, seconds: float) -> OpenAIError:
    """The wait ran out: a 504 the SDK must not retry (a retry would buy another grid)."""
    return OpenAIError(
        504,
        f"The images were not ready within {seconds:g} s. Job {job.id} goes on and keeps its "
        f"charge: read it with GET /v2/jobs/{job.id}.",
        type=SERVER,
        code="generation_timeout",
        job_id=job.id,
    )


def error_response(exc: errors.SelfjourneyError) -> Response:
    return from_domain(exc).response()


def validation_response(exc: RequestValidationError) -> Response:
    """OpenAI names one problem: the first, with its field as ``param``."""
    items = list(exc.errors())
    return _refusal(items[0] if items else {}).response()


def _refusal(item: Any) -> OpenAIError:
    loc = [str(part) for part in item.get("loc", ())]
    kind = str(item.get("type", ""))
    param = loc[-1] if len(loc) > 1 else None
    if kind == "json_invalid" or (param is None and loc[:1] == ["body"]):
        return OpenAIError(
            400,
            "We could not parse the JSON body of your request: send a JSON object with "
            "Content-Type: application/json.",
            code="invalid_json",
        )
    if kind == "missing":
        return OpenAIError(
            400,
            f"Missing required parameter: '{param}'.",
            param=param,
            code="missing_required_parameter",
        )
    code = kind if kind in _OPENAI_CODES else "invalid_value"
    message = str(item.get("msg", "Invalid value")).removeprefix("Value error, ")
    return OpenAIError(400, message, param=param, code=code)


_OPENAI_CODES = frozenset(
    {
        "invalid_value",
        "invalid_type",
        "missing_required_parameter",
        "integer_below_min_value",
        "integer_above_max_value",
        "string_above_max_length",
    }
)
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}


def http_error_response(exc: HTTPException) -> Response:
    """The dialect's own refusals, and Starlette's (e.g. a malformed multipart body)."""
    if isinstance(exc, OpenAIError):
        return exc.response()
    kind = SERVER if exc.status_code >= 500 else INVALID
    code = _HTTP_CODES.get(exc.status_code, "invalid_request")
    return OpenAIError(exc.status_code, str(exc.detail), type=kind, code=code).response()


def server_error() -> OpenAIError:
    return OpenAIError(500, "The server had an error while processing your request.", type=SERVER)


def body_limit(path: str) -> int:
    return FORM_LIMIT if path in FORM_PATHS else JSON_LIMIT


#: Routes in OpenAI's envelope, with a body limit, whose unexpected errors are a 500 in the
#: same envelope (logged) rather than another dialect's body.
OpenAIRoute = enveloped_route(
    Envelope(
        validation_response,
        error_response,
        http_error_response,
        unexpected=lambda: server_error().response(),
        body_limit=body_limit,
    )
)
