"""midjourney-proxy submit routes: parse, one core call, answer the submit envelope.

Every route is served under ``/mj`` and under the speed prefixes ``/mj-fast/mj``,
``/mj-relax/mj`` and ``/mj-turbo/mj``; a prefix only sets the speed. The prefixed routes are
one set, ``/{speed}/mj/...``, whose ``speed`` segment matches only the three prefixes (any
other first segment is the app's usual 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from selfjourney.dialects.deps import MjSecretAccount, ServiceDep, read
from selfjourney.dialects.mjproxy import buttons, present, tasks, translate
from selfjourney.dialects.mjproxy import models as m
from selfjourney.dialects.mjproxy.errors import MODAL, SUCCESS, MjProxyRoute
from selfjourney.domain.accounts import Account
from selfjourney.domain.commands import Imagine
from selfjourney.domain.errors import ActionUnavailable, NotFound
from selfjourney.domain.held import HeldAction
from selfjourney.domain.jobs import Job
from selfjourney.service import Service

#: Each speed prefix (``/mj-fast/mj/...``) and the speed it sets; ``/mj/...`` sets none (the
#: request's own, else FAST).
SPEEDS: dict[str, m.Mode] = {"mj-fast": "FAST", "mj-relax": "RELAX", "mj-turbo": "TURBO"}
IN_QUEUE = 22
WAITING = "Waiting for window confirm"
TAG = "midjourney-proxy"
#: The submit answers: the envelope, HTTP 200, refusals included (401: key; 404: unknown task).
SUBMIT: dict[int | str, dict[str, Any]] = {
    401: {"model": m.SubmitResult, "description": "Missing or invalid key (code 4)"},
    404: {"model": m.SubmitResult, "description": "Unknown task (code 3)"},
    400: {"model": m.SubmitResult, "description": "The body is not a JSON object (code 4)"},
}


class SpeedConvertor(Convertor[str]):
    """A path segment that is one of the speed prefixes, and nothing else."""

    regex = "|".join(SPEEDS)

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("mjspeed", SpeedConvertor())


async def path_mode(request: Request) -> m.Mode | None:
    """The speed of the path prefix, if the route was reached through one."""
    return SPEEDS.get(str(request.path_params.get("speed", "")))


PathMode = Annotated[m.Mode | None, Depends(path_mode)]


async def created(service: Service, job: Job) -> m.SubmitResult:
    """Code 1, or 22 with ``numberOfQueues`` when queued jobs run before it."""
    ahead = await read(service, service.waiting_ahead, job)
    if ahead:
        return m.SubmitResult(
            code=IN_QUEUE,
            description=f"In queue, {ahead} task(s) ahead",
            result=job.id,
            properties={"numberOfQueues": ahead},
        )
    return m.SubmitResult(code=SUCCESS, description="Submit success", result=job.id)


async def imagine(
    body: m.ImagineRequest, account: MjSecretAccount, service: ServiceDep, mode: PathMode
) -> m.SubmitResult:
    job = await run_in_threadpool(_grid, service, account, translate.to_imagine, body, mode)
    return await created(service, job)


async def blend(
    body: m.BlendRequest, account: MjSecretAccount, service: ServiceDep, mode: PathMode
) -> m.SubmitResult:
    job = await run_in_threadpool(_grid, service, account, translate.to_blend, body, mode)
    return await created(service, job)


def _grid(
    service: Service,
    account: Account,
    to_command: Callable[[Any, m.Mode | None], Imagine],
    body: Any,
    mode: m.Mode | None,
) -> Job:
    """A new grid; its inline images are decoded here, off the event loop (5 x 10 MB)."""
    job, _ = service.imagine(account, to_command(body, mode))
    return job


async def action(
    body: m.ActionRequest, account: MjSecretAccount, service: ServiceDep, mode: PathMode
) -> m.SubmitResult:
    task = await read(service, tasks.read_task, service, account, body.taskId)
    press = buttons.parse(body.customId, body.taskId)
    return await _press(service, account, (task, press, body.customId), body, mode)


async def change(
    body: m.ChangeRequest, account: MjSecretAccount, service: ServiceDep, mode: PathMode
) -> m.SubmitResult:
    task = await read(service, tasks.read_task, service, account, body.taskId)
    press = buttons.for_change(body.taskId, body.action, body.index)
    what = f"{body.action} {body.index or ''}".strip()
    return await _press(service, account, (task, press, what), body, mode)


async def simple_change(
    body: m.SimpleChangeRequest, account: MjSecretAccount, service: ServiceDep, mode: PathMode
) -> m.SubmitResult:
    press = buttons.for_simple_change(body.content)
    task = await read(service, tasks.read_task, service, account, press.task_id)
    return await _press(service, account, (task, press, body.content), body, mode)


async def _press(
    service: Service,
    account: Account,
    pressed: tuple[Job | HeldAction, buttons.Press, str],
    body: Any,
    mode: m.Mode | None,
) -> m.SubmitResult:
    """A button (``what`` the client sent) on a task: a new job (1/22), or a held action
    waiting for its modal (21)."""
    task, press, what = pressed
    buttons.check_offered(press, task, what)
    assert isinstance(task, Job)
    start = present.prompt(task) if press.kind is buttons.Kind.CUSTOM_ZOOM else ""
    command = translate.press_command(press, task, body, mode, start)
    if press.kind.holds:
        held = await run_in_threadpool(service.hold, account, command)
        finals = {"finalPrompt": held.command.prompt or "", "remix": True}
        return m.SubmitResult(code=MODAL, description=WAITING, result=held.id, properties=finals)
    job, _ = await run_in_threadpool(service.act, account, command)
    return await created(service, job)


async def modal(
    body: m.ModalRequest, account: MjSecretAccount, service: ServiceDep
) -> m.SubmitResult:
    held = await read(service, _waiting, service, account, body.taskId)
    command = translate.modal_command(held, body)
    job, _ = await run_in_threadpool(service.release, account, held.id, command)
    return await created(service, job)


def _waiting(service: Service, account: Account, task_id: str) -> HeldAction:
    """The held action of a MODAL task; a task of this key in any other state is code 4."""
    try:
        return service.read_held(account, task_id)
    except NotFound:
        job = service.read(account, task_id)  # NotFound again: 404, code 3
    state = present.status(job)
    raise ActionUnavailable(
        f"task {task_id} is not waiting for a modal (status {state})", job.id, "modal"
    )


SUBMITS = (
    ("/submit/imagine", imagine, "Imagine: a new 2x2 grid (code 1/22 with the task id)"),
    ("/submit/blend", blend, "Blend 2-5 images (base64Array) into a grid"),
    ("/submit/action", action, "Press a task's button by customId (21: a modal follows)"),
    ("/submit/modal", modal, "Finish a code-21 press: Vary Region's mask, Custom Zoom's prompt"),
    ("/submit/change", change, "Legacy U/V/R of a grid: action UPSCALE|VARIATION|REROLL, index"),
    ("/submit/simple-change", simple_change, "Legacy '<taskId> U2' (U1-U4, V1-V4, R)"),
)


def router(prefix: str) -> APIRouter:
    """Every route under one prefix; only ``/mj`` is in the OpenAPI document (the speed
    prefixes serve the same routes)."""
    documented = prefix == "/mj"
    api = APIRouter(
        prefix=prefix, route_class=MjProxyRoute, tags=[TAG], include_in_schema=documented
    )
    for path, endpoint, summary in SUBMITS:
        api.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            response_model=m.SubmitResult,
            summary=summary,
            responses=SUBMIT,
        )
    tasks.add_routes(api)
    return api


#: Built once, like every dialect's router: each app includes them.
ROUTERS = (router("/mj"), router("/{speed:mjspeed}/mj"))
