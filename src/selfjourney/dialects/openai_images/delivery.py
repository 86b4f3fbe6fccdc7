"""The synchronous layer: a created job is awaited on the job feed (``Service.wait``: no thread
per waiting request) and answered with its pictures, or streamed as server-sent events.

Picture work (resizing, encoding) runs in the thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from selfjourney.dialects.openai_images.errors import generation_failed, generation_timeout
from selfjourney.dialects.openai_images.models import OpenAIImagesResponse
from selfjourney.dialects.openai_images.present import (
    KEEP_ALIVE,
    Answer,
    completed_event,
    error_event,
    images_response,
    partial_event,
    picture,
)
from selfjourney.domain.accounts import Account
from selfjourney.domain.jobs import Job
from selfjourney.domain.params import GridIndex
from selfjourney.domain.status import JobStatus
from selfjourney.service import Service

log = logging.getLogger(__name__)

#: A stream sends a comment at least this often while the job renders (proxies keep it open).
KEEP_ALIVE_SECONDS = 10.0


async def submit(call: Callable[..., tuple[Job, bool]], *args: Any) -> Job:
    """A core submission (a short transaction) on a worker thread; the job, new or replayed."""
    job, _ = await run_in_threadpool(call, *args)
    return job


async def deliver(
    service: Service,
    account: Account,
    job: Job,
    answer: Answer,
    *,
    timeout: float,
    response: Response,
) -> OpenAIImagesResponse | StreamingResponse:
    """The answer to a request that created ``job``: its pictures, or their stream."""
    if answer.stream:
        return StreamingResponse(
            guarded(events(service, account, job, answer, timeout), job.id),
            media_type="text/event-stream",
            headers={"X-Job-Id": job.id, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    response.headers["X-Job-Id"] = job.id
    done = await service.wait(account, job.id, timeout=timeout)
    if done.status.is_failure():
        raise generation_failed(done)
    if done.status is not JobStatus.COMPLETED:
        raise generation_timeout(done, timeout)
    return await run_in_threadpool(respond, service, done, answer)


def respond(service: Service, job: Job, answer: Answer) -> OpenAIImagesResponse:
    """The first ``n`` pictures of a finished job, as base64 or as URLs (CPU work)."""
    data = []
    for n in range(1, answer.n + 1):
        index = GridIndex(n)
        if answer.b64:
            encoded = base64.b64encode(service.picture(job, index, answer.rendition)).decode()
            data.append(picture(job, answer, b64=encoded))
        else:
            key = service.picture_key(job, index, answer.rendition)
            data.append(picture(job, answer, url=service.url(key)))
    return images_response(job, answer, data)


def coarse_steps(partial_images: int) -> list[int]:
    """How much coarser each partial picture is, coarse to fine: 3 partials are 1/8, 1/4 and
    1/2 of the side scaled back; none when none are asked."""
    return [2 ** (partial_images - stage) for stage in range(partial_images)]


async def events(
    service: Service, account: Account, job: Job, answer: Answer, timeout: float
) -> AsyncIterator[str]:
    """The stream: keep-alives while the job renders, then for each picture its partials
    (coarser stages of the finished picture: the core hands out no intermediate pictures)
    and its completed event; or one error event."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not job.status.is_terminal() and (left := deadline - loop.time()) > 0:
        job = await service.wait(account, job.id, timeout=min(left, KEEP_ALIVE_SECONDS))
        if not job.status.is_terminal():
            yield KEEP_ALIVE
    if job.status is not JobStatus.COMPLETED:
        failure = (
            generation_failed(job) if job.status.is_failure() else generation_timeout(job, timeout)
        )
        yield error_event(failure.message, failure.code, job.id)
        return
    for n in range(answer.n):
        index = GridIndex(n + 1)
        for stage, coarse in enumerate(coarse_steps(answer.partial_images)):
            data = await _b64(service, job, index, answer, coarse)
            yield partial_event(job, answer, n, stage, data, time.time)
        yield completed_event(job, answer, n, await _b64(service, job, index, answer, 1), time.time)


async def guarded(stream: AsyncIterator[str], job_id: str) -> AsyncIterator[str]:
    """A stream whose unexpected failure (the headers are gone) ends in an error event."""
    try:
        async for chunk in stream:
            yield chunk
    except Exception:
        log.exception("stream of job %s failed", job_id)
        yield error_event("The server had an error while streaming the images.", None, job_id)


async def _b64(service: Service, job: Job, index: GridIndex, answer: Answer, coarse: int) -> str:
    data = await run_in_threadpool(service.picture, job, index, answer.rendition, coarse=coarse)
    return base64.b64encode(data).decode()
