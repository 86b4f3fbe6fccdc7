"""midapi.ai routes under /api/v1: parse, one core call, render in the envelope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from selfjourney.dialects.deps import AuthorizationAccount, ServiceDep, read
from selfjourney.dialects.midapi import models as m
from selfjourney.dialects.midapi.errors import MidapiRoute
from selfjourney.dialects.midapi.present import record_info
from selfjourney.dialects.midapi.translate import (
    check_not_expired,
    own_file,
    to_imagine,
    to_upscale,
    to_vary,
)
from selfjourney.domain.commands import Act
from selfjourney.domain.errors import NotFound

router = APIRouter(prefix="/api/v1", route_class=MidapiRoute, tags=["midapi.ai"])

OK = "success"
#: Every answer is HTTP 200: the success envelope, or a refusal with its code and null data.
_TASK: Any = m.MidapiTaskCreatedResponse | m.MidapiFailure
_RECORD: Any = m.MidapiRecordInfoResponse | m.MidapiFailure
_CREDIT: Any = m.MidapiCreditResponse | m.MidapiFailure
_DOWNLOAD: Any = m.MidapiDownloadUrlResponse | m.MidapiFailure


def _created(task_id: str) -> m.MidapiTaskCreatedResponse:
    return m.MidapiTaskCreatedResponse(code=200, msg=OK, data=m.MidapiTaskCreated(taskId=task_id))


async def _submit(service: ServiceDep, account: AuthorizationAccount, command: Act) -> str:
    job, _ = await run_in_threadpool(service.act, account, command)
    return job.id


@router.post("/mj/generate", response_model=_TASK, summary="Create an image task")
async def generate(
    body: m.MidapiGenerateRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.MidapiTaskCreatedResponse:
    command = to_imagine(body)
    job, _ = await run_in_threadpool(service.imagine, account, command)
    return _created(job.id)


@router.post(
    "/mj/generateUpscale", response_model=_TASK, summary="Upscale one grid image (imageIndex 0-3)"
)
async def upscale(
    body: m.MidapiUpscaleRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.MidapiTaskCreatedResponse:
    task_id = await _submit(service, account, to_upscale(body))
    return _created(task_id)


@router.post(
    "/mj/upscale",
    response_model=_TASK,
    summary="Upscale, as the quickstart spells it: {taskId, index 0-3}",
)
async def upscale_alias(
    body: m.MidapiUpscaleAliasRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.MidapiTaskCreatedResponse:
    task_id = await _submit(service, account, to_upscale(body))
    return _created(task_id)


@router.post(
    "/mj/generateVary",
    response_model=_TASK,
    summary="Vary one grid image (imageIndex 0-3 0-based; 4 = the last image)",
)
async def vary(
    body: m.MidapiVaryRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.MidapiTaskCreatedResponse:
    task_id = await _submit(service, account, to_vary(body))
    return _created(task_id)


@router.get(
    "/mj/record-info",
    response_model=_RECORD,
    summary="A task's status and results (any task of this key, whichever API made it)",
)
async def get_record_info(
    taskId: Annotated[str, Query(min_length=1, max_length=100)],
    account: AuthorizationAccount,
    service: ServiceDep,
) -> m.MidapiRecordInfoResponse:
    job = await read(service, service.read, account, taskId)
    return m.MidapiRecordInfoResponse(code=200, msg=OK, data=record_info(job, service.url))


@router.get("/common/credit", response_model=_CREDIT, summary="Remaining credits")
async def credit(account: AuthorizationAccount, service: ServiceDep) -> m.MidapiCreditResponse:
    fresh = await read(service, service.account, account)
    return m.MidapiCreditResponse(code=200, msg=OK, data=fresh.credits)


router.add_api_route(
    "/chat/credit",
    credit,
    methods=["GET"],
    response_model=_CREDIT,
    summary="Remaining credits (kie.ai's path for the same answer)",
)


@router.post(
    "/common/download-url",
    response_model=_DOWNLOAD,
    summary="A download URL for one of this key's images (ours never expire early)",
)
async def download_url(
    body: m.MidapiDownloadUrlRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.MidapiDownloadUrlResponse:
    job_id = own_file(body.url, service.url(""))
    try:
        job = await read(service, service.read, account, job_id)
    except NotFound:
        raise NotFound(job_id, "File") from None  # another key's image, or a deleted job
    check_not_expired(job.expired)
    return m.MidapiDownloadUrlResponse(code=200, msg=OK, data=body.url)
