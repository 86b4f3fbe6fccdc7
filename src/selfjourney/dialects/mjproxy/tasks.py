"""midjourney-proxy task routes (fetch, list-by-condition, image-seed, list, queue) and the
features a self-hosted server answers with a clear code-4 refusal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from selfjourney.dialects.deps import MjSecretAccount, ServiceDep, read
from selfjourney.dialects.mjproxy import models as m
from selfjourney.dialects.mjproxy import present
from selfjourney.dialects.mjproxy.errors import SUCCESS, MjProxyListRoute
from selfjourney.domain.accounts import Account
from selfjourney.domain.errors import ActionUnavailable, NotFound, Unsupported
from selfjourney.domain.held import HeldAction
from selfjourney.domain.jobs import Job
from selfjourney.domain.status import JobStatus
from selfjourney.service import Service

#: ``task/list``: the key's newest tasks, at most this many.
LIST_LIMIT = 100
_TASK: dict[int | str, dict[str, Any]] = {
    401: {"model": m.SubmitResult, "description": "Missing or invalid key (code 4)"},
    404: {"model": m.SubmitResult, "description": "Unknown task (code 3)"},
}
_LIST: dict[int | str, dict[str, Any]] = {
    401: {"model": m.SubmitResult, "description": "Missing or invalid key (code 4)"},
    400: {"model": m.SubmitResult, "description": "The body is not a JSON object (code 4)"},
}


def read_task(service: Service, account: Account, task_id: str) -> Job | HeldAction:
    """A job of this key, else one of its held actions (a MODAL task); NotFound otherwise."""
    try:
        return service.read(account, task_id)
    except NotFound:
        return service.read_held(account, task_id)


def _task(service: Service, task: Job | HeldAction) -> m.Task:
    if isinstance(task, HeldAction):
        return present.held_task(task)
    return present.task(task, service.url)


async def fetch(id: str, account: MjSecretAccount, service: ServiceDep) -> m.Task:
    task = await read(service, read_task, service, account, id)
    return _task(service, task)


async def list_by_condition(
    body: m.ListByConditionRequest, account: MjSecretAccount, service: ServiceDep
) -> Response:
    """The tasks of the ids asked, in that order, each once; ids that are unknown or another
    key's are left out, never answered with an id that was not asked for (spec §9.2).

    Relays send every unfinished id every 15 s: the task objects go out as built
    (``present.task_json``, the dicts ``fetch`` validates), without a second pass.
    """
    ids = [task_id for task_id in dict.fromkeys(body.ids or ()) if task_id]
    return JSONResponse(await read(service, _found, service, account, ids))


def _found(service: Service, account: Account, ids: list[str]) -> list[dict[str, Any]]:
    jobs: dict[str, Job | HeldAction] = {job.id: job for job in service.read_found(account, ids)}
    missing = [task_id for task_id in ids if task_id not in jobs]
    if missing:  # held actions (MODAL tasks): looked up only for ids that are not jobs
        jobs.update({held.id: held for held in service.read_held_found(account, missing)})
    return [_task_json(service, jobs[task_id]) for task_id in ids if task_id in jobs]


def _task_json(service: Service, task: Job | HeldAction) -> dict[str, Any]:
    if isinstance(task, HeldAction):
        return present.held_task(task).model_dump(mode="json")
    return present.task_json(task, service.url)


async def image_seed(id: str, account: MjSecretAccount, service: ServiceDep) -> m.SubmitResult:
    """The grid's seed as a decimal string (an upsample's or upscale's is its grid's)."""
    task = await read(service, read_task, service, account, id)
    if isinstance(task, HeldAction):
        raise ActionUnavailable(f"task {id} is MODAL: it has no seed yet", id, "image-seed")
    return m.SubmitResult(code=SUCCESS, description="Success", result=str(task.seed))


async def task_list(account: MjSecretAccount, service: ServiceDep) -> list[m.Task]:
    """The key's newest tasks, newest first (at most 100)."""
    page = await read(service, service.list_jobs, account, LIST_LIMIT)
    return [present.task(job, service.url) for job in page.jobs]


async def queue(account: MjSecretAccount, service: ServiceDep) -> list[m.Task]:
    """The key's unfinished tasks, oldest first (at most 100 of each status)."""
    jobs = []
    for status in (JobStatus.QUEUED, JobStatus.PROCESSING):
        page = await read(service, service.list_jobs, account, LIST_LIMIT, None, status.value)
        jobs += page.jobs
    jobs.sort(key=lambda job: (job.created_at, job.id))
    return [present.task(job, service.url) for job in jobs]


#: Routes of features this server cannot offer, and why (spec §10): code 4, nothing charged.
REFUSED = {
    "/submit/describe": ("describe", "turning an image into prompts needs an image-to-text model"),
    "/submit/shorten": ("shorten", "it needs Midjourney's prompt analyser, a language model"),
    "/submit/edits": ("edits", "Midjourney's web editor is not served; vary a region instead"),
    "/submit/edit": ("edit", "Midjourney's web editor is not served; vary a region instead"),
    "/submit/retexture": ("retexture", "Midjourney's web editor is not served"),
    "/submit/video": ("video", "it needs a video model"),
    "/submit/upload-discord-images": ("upload-discord-images", "there is no Discord here"),
    "/insight-face/swap": ("face swap", "it needs a face model"),
}


def _refusal(feature: str, reason: str) -> Any:
    async def refuse(_account: MjSecretAccount) -> m.SubmitResult:
        raise Unsupported(
            f"{feature} is not available on this self-hosted server: {reason}", feature
        )

    refuse.__name__ = f"refuse_{feature.replace(' ', '_').replace('-', '_')}"
    return refuse


async def cancel(id: str, account: MjSecretAccount, service: ServiceDep) -> m.SubmitResult:
    """Cancel a task that has not ended (refunded); the task then reads FAILURE, its
    ``failReason`` saying it was cancelled. An ended one is a code 4, like any refusal."""
    job = await run_in_threadpool(service.cancel, account, id)
    return m.SubmitResult(code=SUCCESS, description="Success", result=job.id)


def add_routes(api: APIRouter) -> None:
    api.add_api_route(
        "/task/{id}/fetch",
        fetch,
        methods=["GET"],
        response_model=m.Task,
        summary="One task (any task of this key, whichever API made it)",
        responses=_TASK,
    )
    for path in ("/task/list-by-condition", "/task/list-by-ids"):
        api.add_api_route(
            path,
            list_by_condition,
            methods=["POST"],
            response_model=list[m.Task],
            summary="The tasks of these ids (unknown ids left out): what relays poll",
            responses=_LIST,
            route_class_override=MjProxyListRoute,
        )
    api.add_api_route(
        "/task/{id}/image-seed",
        image_seed,
        methods=["GET"],
        response_model=m.SubmitResult,
        summary="The seed of a task's grid, as a string (free)",
        responses=_TASK,
    )
    api.add_api_route(
        "/task/list",
        task_list,
        methods=["GET"],
        response_model=list[m.Task],
        summary="The key's newest 100 tasks",
        responses=_LIST,
    )
    api.add_api_route(
        "/task/queue",
        queue,
        methods=["GET"],
        response_model=list[m.Task],
        summary="The key's unfinished tasks, oldest first",
        responses=_LIST,
    )
    api.add_api_route(
        "/task/{id}/cancel",
        cancel,
        methods=["POST"],
        response_model=m.SubmitResult,
        summary="Cancel a task that has not ended (refunded; an ended one is code 4)",
        responses=_LIST,
    )
    for path, (feature, reason) in REFUSED.items():
        api.add_api_route(
            path,
            _refusal(feature, reason),
            methods=["POST"],
            response_model=m.SubmitResult,
            summary=f"Not available here: {feature} (code 4, nothing charged)",
            responses=_LIST,
        )
