"""OpenAI Images routes under /v1: parse, one core call, wait, answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader

from selfjourney.dialects.deps import ServiceDep, account_of
from selfjourney.dialects.openai_images import models as m
from selfjourney.dialects.openai_images.delivery import deliver, submit
from selfjourney.dialects.openai_images.errors import OpenAIError, OpenAIRoute, auth_error
from selfjourney.dialects.openai_images.forms import MAX_IMAGES, parse_fields, read_form
from selfjourney.dialects.openai_images.translate import (
    idempotency,
    to_edit,
    to_imagine,
    to_variation,
    wait_seconds,
)
from selfjourney.domain.accounts import Account
from selfjourney.domain.errors import AuthError

router = APIRouter(prefix="/v1", route_class=OpenAIRoute, tags=["OpenAI Images"])

#: The one model listed: generation requests accept any model name (clients hard-code them).
MODEL = m.OpenAIModel(id="selfjourney", object="model", created=1796083200, owned_by="selfjourney")

_bearer = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    scheme_name="OpenAIBearer",
    description="`Bearer <key>` (the openai SDK), or the bare key",
)
_azure = APIKeyHeader(
    name="api-key",
    auto_error=False,
    scheme_name="OpenAIApiKey",
    description="The key in Azure's header (Open WebUI and LibreChat in Azure mode)",
)


async def openai_account(
    service: ServiceDep,
    authorization: Annotated[str | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_azure)],
) -> Account:
    """The account of ``Authorization: Bearer <key>`` (or the bare key, or ``api-key``)."""
    scheme, _, rest = (authorization or "").strip().partition(" ")
    bearer = rest.strip() if scheme.lower() == "bearer" else scheme
    key = bearer or (api_key or "").strip() or None
    try:
        return await account_of(service, key)
    except AuthError as exc:
        raise auth_error(exc, key) from None


OpenAIAccount = Annotated[Account, Depends(openai_account)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
#: The SDK's read timeout: the wait ends before it (``translate.wait_seconds``).
ReadTimeout = Annotated[
    str | None, Header(alias="x-stainless-read-timeout", include_in_schema=False)
]


def _error(description: str) -> dict[str, Any]:
    return {"model": m.OpenAIErrorBody, "description": description}


_IMAGES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The pictures; with `stream: true`, server-sent events instead",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    400: _error("Invalid request (`param` names the field); nothing charged"),
    401: _error("Missing, unknown or revoked key"),
    409: _error("Idempotency-Key reused with another request"),
    413: _error("Request body too large"),
    429: _error("Not enough credits (`insufficient_quota`)"),
    500: _error("The job failed (refunded); `X-Job-Id` names it"),
    504: _error("The job did not finish in time; it goes on, charged; `X-Job-Id` names it"),
}


@router.post(
    "/images/generations",
    response_model=m.OpenAIImagesResponse,
    response_model_exclude_none=True,
    responses=_IMAGES,
    summary="Create pictures from a prompt (one grid job, awaited)",
)
async def generations(
    body: m.OpenAIGenerateRequest,
    account: OpenAIAccount,
    service: ServiceDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    read_timeout: ReadTimeout = None,
) -> m.OpenAIImagesResponse | StreamingResponse:
    command, answer = to_imagine(body)
    key = idempotency(idempotency_key, "generations", command.input)
    job = await submit(service.imagine, account, command, key)
    timeout = wait_seconds(service.max_wait, read_timeout)
    return await deliver(service, account, job, answer, timeout=timeout, response=response)


@router.post(
    "/images/edits",
    response_model=m.OpenAIImagesResponse,
    response_model_exclude_none=True,
    responses=_IMAGES,
    openapi_extra={"requestBody": m.EDIT_BODY},
    summary="Edit a picture: with a mask an inpaint, without one a variation with the prompt",
)
async def edits(
    request: Request,
    account: OpenAIAccount,
    service: ServiceDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    read_timeout: ReadTimeout = None,
) -> m.OpenAIImagesResponse | StreamingResponse:
    form = await read_form(request, max_images=MAX_IMAGES)
    command, answer = to_edit(parse_fields(m.OpenAIEditFields, form), form)
    key = idempotency(idempotency_key, "edits", command.input)
    job = await submit(service.edit_image, account, command, key)
    timeout = wait_seconds(service.max_wait, read_timeout)
    return await deliver(service, account, job, answer, timeout=timeout, response=response)


@router.post(
    "/images/variations",
    response_model=m.OpenAIImagesResponse,
    response_model_exclude_none=True,
    responses=_IMAGES,
    openapi_extra={"requestBody": m.VARIATION_BODY},
    summary="Variations of a picture (a variation job, no prompt)",
)
async def variations(
    request: Request,
    account: OpenAIAccount,
    service: ServiceDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    read_timeout: ReadTimeout = None,
) -> m.OpenAIImagesResponse | StreamingResponse:
    form = await read_form(request, max_images=1)
    command, answer = to_variation(parse_fields(m.OpenAIVariationFields, form), form)
    key = idempotency(idempotency_key, "variations", command.input)
    job = await submit(service.edit_image, account, command, key)
    timeout = wait_seconds(service.max_wait, read_timeout)
    return await deliver(service, account, job, answer, timeout=timeout, response=response)


_AUTH: dict[int | str, dict[str, Any]] = {401: _error("Missing, unknown or revoked key")}


@router.get(
    "/models",
    dependencies=[Depends(openai_account)],
    responses=_AUTH,
    summary="The models (one; generation accepts any model name)",
)
async def list_models() -> m.OpenAIModelList:
    return m.OpenAIModelList(object="list", data=[MODEL])


@router.get(
    "/models/{model}",
    dependencies=[Depends(openai_account)],
    responses={**_AUTH, 404: _error("No such model")},
    summary="One model",
)
async def retrieve_model(model: str) -> m.OpenAIModel:
    if model != MODEL.id:
        raise OpenAIError(
            404,
            f"The model '{model}' does not exist; this server lists '{MODEL.id}' (image "
            "requests accept any model name).",
            param="model",
            code="model_not_found",
        )
    return MODEL


_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route("/{path:path}", methods=_METHODS, include_in_schema=False)
async def unknown(request: Request) -> Response:
    """404 ``unknown_url`` for any other /v1 path; 405 for a wrong method on a known one."""
    path = request.url.path
    allowed = sorted(
        method
        for route in router.routes
        if isinstance(route, APIRoute) and route.name != "unknown" and route.path_regex.match(path)
        for method in route.methods or ()
    )
    if allowed:
        raise OpenAIError(
            405,
            f"Method {request.method} is not allowed on {path}; use {', '.join(allowed)}.",
            code="method_not_allowed",
            headers={"Allow": ", ".join(allowed)},
        )
    raise OpenAIError(404, f"Invalid URL ({request.method} {path})", code="unknown_url")
