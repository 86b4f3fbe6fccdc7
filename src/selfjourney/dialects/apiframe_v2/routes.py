"""Apiframe v2 Midjourney routes: parse, one core call, render."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from selfjourney.dialects.apiframe_v2 import events
from selfjourney.dialects.apiframe_v2 import models as m
from selfjourney.dialects.apiframe_v2.errors import V2Route
from selfjourney.dialects.apiframe_v2.present import (
    accepted,
    job_public,
    job_summary,
    models_details,
)
from selfjourney.dialects.apiframe_v2.translate import idempotency, to_act, to_imagine
from selfjourney.dialects.deps import ApiKeyAccount, ServiceDep, StreamsDep, read
from selfjourney.domain.errors import InvalidInput

router = APIRouter(prefix="/v2", route_class=V2Route)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
_UUID = {"format": "uuid"}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": m.ValidationErrorResponse, "description": "Invalid request"},
    401: {"model": m.ErrorResponse, "description": "Missing or invalid API key"},
    403: {"model": m.ErrorResponse, "description": "API key is inactive"},
}
_SUBMIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    402: {"model": m.InsufficientCreditsResponse, "description": "Not enough credits"},
    404: {"model": m.ErrorResponse, "description": "Parent job not found"},
    409: {"model": m.ErrorResponse, "description": "Action unavailable or key reused"},
}


@router.post(
    "/images/generate",
    status_code=202,
    tags=["Images"],
    summary="Submit a Midjourney image generation job",
    responses=_SUBMIT_ERRORS,
)
async def generate(
    body: m.GenerateRequest,
    account: ApiKeyAccount,
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> m.JobAccepted:
    command, key = to_imagine(body), idempotency(idempotency_key, "generate", body)
    job, _ = await run_in_threadpool(service.imagine, account, command, key)
    return accepted(job)


@router.post(
    "/images/midjourney/action",
    status_code=202,
    tags=["Images"],
    summary="Run a follow-up action (upsample, variation, inpaint, outpaint, pan)",
    responses=_SUBMIT_ERRORS,
)
async def action(
    body: Annotated[m.ActionRequest, Body()],
    account: ApiKeyAccount,
    service: ServiceDep,
    idempotency_key: IdempotencyKey = None,
) -> m.JobAccepted:
    command, key = to_act(body), idempotency(idempotency_key, "action", body)
    job, _ = await run_in_threadpool(service.act, account, command, key)
    return accepted(job)


@router.get(
    "/jobs/{id}",
    tags=["Jobs"],
    summary="Get a job",
    responses={**_ERRORS, 404: {"model": m.ErrorResponse, "description": "Job not found"}},
)
async def get_job(
    id: Annotated[str, Path(json_schema_extra=_UUID)], account: ApiKeyAccount, service: ServiceDep
) -> m.JobPublic:
    job = await read(service, service.read, account, _uuid(id, "id"))
    return job_public(job, service.url)


class EventStream(StreamingResponse):
    """``text/event-stream``, so the OpenAPI document names the stream's media type."""

    media_type = events.MEDIA_TYPE


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    schema = model.model_json_schema()  # inline: FastAPI may rename the component
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_EVENTS_DOC = """Server-Sent Events: one event on every change of the job's status or progress, its
`data` the job as `GET /v2/jobs/{id}` renders it, named `progress` while the job runs and
`completed` or `failed` for its end; then the stream closes. A job that has ended sends its
final event at once. `: keep-alive` comment lines come every 15 s (by default) while nothing
changes. Send the key in `X-API-Key` (a browser can, with `fetch()`; `EventSource` cannot send
headers). A job rendered by another process streams too, read at least every second.

```
event: progress
data: {"id":"…","status":"PROCESSING","progress":42,…}

event: completed
data: {"id":"…","status":"COMPLETED","progress":100,"result":{…},…}
```"""


@router.get(
    "/jobs/{id}/events",
    tags=["Jobs"],
    summary="Follow a job: its changes as Server-Sent Events",
    description=_EVENTS_DOC,
    response_class=EventStream,
    responses={
        200: {"description": "`text/event-stream` of `progress`, then `completed` or `failed`"},
        # Refusals come before the stream, as JSON: spelled out, since FastAPI would file a
        # ``model`` under the route's own media type.
        **{code: _json(doc["model"], doc["description"]) for code, doc in _ERRORS.items()},
        404: _json(m.ErrorResponse, "Job not found"),
    },
)
async def job_events(
    id: Annotated[str, Path(json_schema_extra=_UUID)],
    account: ApiKeyAccount,
    service: ServiceDep,
    streams: StreamsDep,
) -> EventStream:
    job = await read(service, service.read, account, _uuid(id, "id"))
    stream = events.job_events(service, account, job, streams.keepalive, streams.closing)
    return EventStream(stream, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post(
    "/jobs/{id}/cancel",
    tags=["Jobs"],
    summary="Cancel a queued or running job (refunded; a finished job answers 409)",
    responses={
        **_ERRORS,
        404: {"model": m.ErrorResponse, "description": "Job not found"},
        409: {"model": m.ErrorResponse, "description": "The job has already ended"},
    },
)
async def cancel_job(
    id: Annotated[str, Path(json_schema_extra=_UUID)], account: ApiKeyAccount, service: ServiceDep
) -> m.JobPublic:
    job = await run_in_threadpool(service.cancel, account, _uuid(id, "id"))
    return job_public(job, service.url)


@router.get(
    "/jobs",
    tags=["Jobs"],
    summary="List jobs, newest first",
    responses=_ERRORS,
    response_model_exclude_unset=True,
)
def list_jobs(
    account: ApiKeyAccount,
    service: ServiceDep,
    status: m.StatusName | None = None,
    model: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
    scope: Literal["user", "team"] = "user",  # noqa: ARG001 - a key is its own team
    search: Annotated[str | None, Query(json_schema_extra=_UUID)] = None,
    include_models: Literal["true", "false"] = "false",
) -> m.JobList:
    found = None if search is None else _uuid(search, "search")
    page = service.list_jobs(account, limit, cursor, status, model, found)
    extra = {"models": service.models_used(account)} if include_models == "true" else {}
    return m.JobList(
        jobs=[job_summary(job, service.url) for job in page.jobs],
        nextCursor=page.next_cursor,
        hasMore=page.next_cursor is not None,
        **extra,
    )


@router.get(
    "/me",
    tags=["Account"],
    summary="The key, its credits and limits",
    responses={code: _ERRORS[code] for code in (401, 403)},
)
def me(account: ApiKeyAccount, service: ServiceDep) -> m.Me:
    fresh = service.account(account)
    return m.Me(
        user=m.MeUser(id=fresh.id, email=f"{fresh.key_prefix}@selfjourney.local", role="OWNER"),
        team=m.MeTeam(
            id=fresh.id,
            name=fresh.name,
            plan="self-hosted",
            credits=fresh.credits,
            customerId=None,
            maxConcurrentJobs=service.max_concurrent_jobs,
        ),
        apiKey=m.MeKey(id=fresh.id, name=fresh.name, prefix=fresh.key_prefix),
    )


@router.get(
    "/models", tags=["Models"], summary="The model catalog (no auth)", responses={400: _ERRORS[400]}
)
def models(
    service: ServiceDep, modality: Literal["image", "video", "music"] | None = None
) -> m.ModelCatalog:
    costs = [cost for cost in service.costs.values()]
    entry = m.ModelEntry(
        id="midjourney",
        label="Midjourney (selfjourney)",
        modality="image",
        description="2x2 grids with U1-U4, V1-V4, vary region, zoom out and pan, rendered locally",
        costMin=min(costs),
        costMax=max(costs),
        pricingMode="flat",
        selfjourney=models_details(service.models),
    )
    return m.ModelCatalog(models=[entry] if modality in (None, "image") else [])


def _uuid(value: str, field: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput(f"{field} must be a UUID", field) from None
