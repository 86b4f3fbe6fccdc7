"""Apiframe's "Pro" Midjourney API (``client.midjourney_alt`` in ``apiframe-sdk`` 1.0.0).

Paths under ``/pro/midjourney``; the key, the task object, the error envelope and the credits
are v1's. Every action names a grid image by ``index`` and acts on it in one step: upscale,
pan and zoom need no upscale-1x first.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from selfjourney.dialects.apiframe_v1 import models as m
from selfjourney.dialects.apiframe_v1 import translate as t
from selfjourney.dialects.apiframe_v1.errors import V1Route
from selfjourney.dialects.apiframe_v1.present import task
from selfjourney.dialects.apiframe_v1.routes import (
    FETCH,
    READ,
    SUBMIT,
    account_info,
    submit_act,
)
from selfjourney.dialects.deps import AuthorizationAccount, ServiceDep, read
from selfjourney.domain.accounts import Account
from selfjourney.domain.jobs import Job
from selfjourney.service import Service

router = APIRouter(prefix="/pro/midjourney", route_class=V1Route, tags=["Apiframe v1 Pro"])


@router.post("/imagine", summary="A new 2x2 grid, fast or turbo", responses=SUBMIT)
async def imagine(
    body: m.ProImagineRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    job, _ = await run_in_threadpool(service.imagine, account, t.to_pro_imagine(body))
    return m.TaskAccepted(task_id=job.id)


@router.post("/variations", summary="Four variations of one grid image", responses=SUBMIT)
async def variations(
    body: m.IndexedRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_pro_variations(body))


@router.post("/vary", summary="Vary (Subtle) or Vary (Strong) of one grid image", responses=SUBMIT)
async def vary(
    body: m.ProVaryRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_pro_vary(body))


@router.post("/upscale", summary="Subtle or creative 2x of one grid image", responses=SUBMIT)
async def upscale(
    body: m.ProUpscaleRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_pro_upscale(body))


@router.post("/pan", summary="Extend one grid image in one direction", responses=SUBMIT)
async def pan(
    body: m.ProPanRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_pro_pan(body))


@router.post("/zoom", summary="Zoom out of one grid image by (1, 2]", responses=SUBMIT)
async def zoom(
    body: m.ProZoomRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_pro_zoom(body))


@router.get(
    "/generation/{generation_id}",
    summary="A task's status and images",
    responses=FETCH,
    response_model_exclude_none=True,
)
async def generation(
    generation_id: str, account: AuthorizationAccount, service: ServiceDep
) -> m.Task:
    """The v1 task object, as /fetch shows it; any task of this key, Pro or not."""
    return task(await read(service, _generation, service, account, generation_id), service.url)


def _generation(service: Service, account: Account, generation_id: str) -> Job:
    return service.read(account, generation_id.lower())


@router.get("/account", summary="Credits and images made", responses={401: READ[401]})
async def account(caller: AuthorizationAccount, service: ServiceDep) -> m.AccountInfo:
    return await read(service, account_info, service, caller)
