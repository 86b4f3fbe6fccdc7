"""``GET /v2/jobs/{id}/events``: a job's life as Server-Sent Events.

One event on every change of the job's status or progress, its ``data`` the job exactly as
``GET /v2/jobs/{id}`` renders it; the event is named ``progress`` while the job runs and
``completed`` or ``failed`` for its end, after which the stream closes. A job that has already
ended sends that last event at once. While nothing changes, a comment line (``: keep-alive``)
goes out every ``keepalive`` seconds, so proxies keep the connection open and a client that
went away is noticed. When the server shuts down (``closing`` is set), open streams end, so
they cannot hold up its exit; a client then opens the stream again on the next server.

The stream waits on ``Service.wait``: woken by the feed when the job renders in this process,
and reading the row again at least every second otherwise, so a job rendered by another
process streams too (at that granularity).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

from selfjourney.dialects.apiframe_v2.present import job_public
from selfjourney.domain.accounts import Account
from selfjourney.domain.jobs import Job
from selfjourney.domain.status import JobStatus
from selfjourney.service import Service

#: Seconds between keep-alive comments on an idle stream (``SELFJOURNEY_EVENTS_KEEPALIVE``).
KEEPALIVE_SECONDS = 15.0
KEEPALIVE = ": keep-alive\n\n"
MEDIA_TYPE = "text/event-stream"

State = tuple[JobStatus, int]
T = TypeVar("T")


async def job_events(
    service: Service,
    account: Account,
    job: Job,
    keepalive: float = KEEPALIVE_SECONDS,
    closing: asyncio.Event | None = None,
) -> AsyncIterator[str]:
    """The stream of ``job`` (already read, so an unknown id was refused before it began)."""
    closing = closing or asyncio.Event()
    sent = _state(job)
    yield event(job, service.url)
    while not job.status.is_terminal():
        change = service.wait(account, job.id, until=_changed_from(sent), timeout=keepalive)
        waited = await _unless(closing, change)
        if waited is None:
            return
        job = waited
        if _state(job) == sent:
            yield KEEPALIVE
            continue
        sent = _state(job)
        yield event(job, service.url)


def event(job: Job, url: Callable[[str], str]) -> str:
    """One SSE frame: ``event: progress|completed|failed`` and the job on one ``data`` line."""
    name = job.status.value.lower() if job.status.is_terminal() else "progress"
    return f"event: {name}\ndata: {job_public(job, url).model_dump_json()}\n\n"


def _state(job: Job) -> State:
    return job.status, job.progress


def _changed_from(sent: State) -> Callable[[Job], bool]:
    return lambda job: _state(job) != sent


async def _unless(closing: asyncio.Event, work: Coroutine[Any, Any, T]) -> T | None:
    """What ``work`` returns, or None as soon as ``closing`` is set (``work`` is cancelled)."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(closing.wait())
    try:
        await asyncio.wait((task, stop), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not task.done():
            task.cancel()
    return task.result() if task.done() and not task.cancelled() else None
