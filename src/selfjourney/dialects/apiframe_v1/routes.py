"""Apiframe v1 routes (what ``apiframe-sdk`` 1.0.0 calls): parse, one core call, render.

Paths sit at the root, as the SDK builds ``base_url + "/imagine"``; the key comes in
``Authorization``, bare or as ``Bearer <key>``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from selfjourney.dialects.apiframe_v1 import models as m
from selfjourney.dialects.apiframe_v1 import translate as t
from selfjourney.dialects.apiframe_v1.errors import V1Route
from selfjourney.dialects.apiframe_v1.present import task
from selfjourney.dialects.deps import AuthorizationAccount, ServiceDep, read
from selfjourney.domain.accounts import Account
from selfjourney.domain.commands import Act, UpscaleImage
from selfjourney.domain.kinds import JobKind
from selfjourney.service import Service

router = APIRouter(route_class=V1Route, tags=["Apiframe v1"])

_E = m.ErrorResponse
READ: dict[int | str, dict[str, Any]] = {
    400: {"model": _E, "description": "Invalid request"},
    401: {"model": _E, "description": "Missing, unknown or revoked API key"},
}
FETCH: dict[int | str, dict[str, Any]] = {
    **READ,
    404: {"model": _E, "description": "No such task for this key"},
}
SUBMIT: dict[int | str, dict[str, Any]] = {
    **FETCH,
    402: {"model": m.InsufficientCreditsResponse, "description": "Not enough credits"},
    409: {"model": _E, "description": "The parent task cannot take this action now"},
}


async def submit_act(service: Service, account: Account, command: Act) -> m.TaskAccepted:
    """A follow-up action accepted: its task id (shared with the Pro routes)."""
    job, _ = await run_in_threadpool(service.act, account, command)
    return m.TaskAccepted(task_id=job.id)


@router.post("/imagine", summary="A new 2x2 grid from a prompt", responses=SUBMIT)
async def imagine(
    body: m.ImagineRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    job, _ = await run_in_threadpool(service.imagine, account, t.to_imagine(body))
    return m.TaskAccepted(task_id=job.id)


@router.post("/blend", summary="A new 2x2 grid mixing 2-5 images", responses=SUBMIT)
async def blend(
    body: m.BlendRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    job, _ = await run_in_threadpool(service.imagine, account, t.to_blend(body))
    return m.TaskAccepted(task_id=job.id)


@router.post("/upscale-1x", summary="One grid image on its own (U1-U4)", responses=SUBMIT)
async def upscale_1x(
    body: m.IndexedRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_upscale(body))


@router.post("/variations", summary="Four variations of one grid image", responses=SUBMIT)
async def variations(
    body: m.IndexedRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_variations(body))


@router.post("/reroll", summary="The parent grid's job again, new seed", responses=SUBMIT)
async def reroll(
    body: m.RerollRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_reroll(body))


@router.post("/inpaint", summary="Vary region of an upscale", responses=SUBMIT)
async def inpaint(
    body: m.InpaintRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_inpaint(body))


@router.post("/outpaint", summary="Zoom out of an upscale, or change its shape", responses=SUBMIT)
async def outpaint(
    body: m.OutpaintRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_outpaint(body))


@router.post("/pan", summary="Extend an upscale in one direction", responses=SUBMIT)
async def pan(
    body: m.PanRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_pan(body))


@router.post(
    "/upscale-alt",
    summary="Subtle or creative 2x upscale of an upscale (U1-U4)",
    responses=SUBMIT,
)
async def upscale_alt(
    body: m.UpscaleAltRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    return await submit_act(service, account, t.to_upscale_alt(body))


@router.post(
    "/upscale-highres",
    summary="2x or 4x upscale of an upscale (U1-U4) or of an image_url (up to 2048x2048)",
    responses=SUBMIT,
)
async def upscale_highres(
    body: m.UpscaleHighresRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskAccepted:
    command = t.to_upscale_highres(body)
    if isinstance(command, UpscaleImage):
        job, _ = await run_in_threadpool(service.upscale_image, account, command)
        return m.TaskAccepted(task_id=job.id)
    return await submit_act(service, account, command)


@router.post("/seed", summary="The seed of a task, answered at once", responses=FETCH)
async def seed(body: m.SeedRequest, account: AuthorizationAccount, service: ServiceDep) -> m.Seed:
    return m.Seed(
        task_id=body.task_id, seed=str(await read(service, _seed, service, account, body))
    )


def _seed(service: Service, account: Account, body: m.SeedRequest) -> int:
    """An upscale shows a picture of its parent grid, so it answers with the grid's seed."""
    job = service.read(account, body.task_id)
    if job.kind is JobKind.UPSAMPLE and job.parent_id is not None:
        return service.read(account, job.parent_id).seed
    return job.seed


@router.post(
    "/fetch",
    summary="A task's status and images",
    responses=FETCH,
    response_model_exclude_none=True,
)
async def fetch(body: m.FetchRequest, account: AuthorizationAccount, service: ServiceDep) -> m.Task:
    return task(await read(service, service.read, account, body.task_id), service.url)


@router.post(
    "/fetch-many",
    summary="2 to 20 tasks at once",
    responses=FETCH,
    response_model_exclude_none=True,
)
async def fetch_many(
    body: m.FetchManyRequest, account: AuthorizationAccount, service: ServiceDep
) -> m.TaskList:
    """In the order asked; an unknown id is a 404 naming it, like /fetch."""
    jobs = await read(service, service.read_many, account, body.task_ids)
    return m.TaskList(tasks=[task(job, service.url) for job in jobs])


@router.get("/account", summary="Credits and images made", responses={401: READ[401]})
async def account(caller: AuthorizationAccount, service: ServiceDep) -> m.AccountInfo:
    return await read(service, account_info, service, caller)


def account_info(service: Service, caller: Account) -> m.AccountInfo:
    fresh = service.account(caller)
    return m.AccountInfo(
        email=f"{fresh.key_prefix}@selfjourney.local",
        credits=fresh.credits,
        total_images=service.images_made(fresh),
        plan="self-hosted",
    )
