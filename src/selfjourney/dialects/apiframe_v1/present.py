"""Core jobs to Apiframe v1 task objects, for /fetch, /fetch-many and webhooks.

Any job renders, whichever dialect made it: ``task_type`` names its kind the v1 way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from selfjourney.dialects.apiframe_v1.models import Task, TaskStatus
from selfjourney.domain.jobs import Job
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.status import JobStatus

NAME = "apiframe_v1"

#: v1 statuses. The Python SDK maps the live API's ``finished`` to ``completed``; we send
#: ``completed`` directly, the value both official SDKs' types declare.
STATUSES: dict[JobStatus, TaskStatus] = {
    JobStatus.QUEUED: "pending",
    JobStatus.PROCESSING: "processing",
    JobStatus.COMPLETED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "failed",  # v1 has no cancel: a cancelled task reads as failed
}


def task_type(job: Job) -> str:
    """``imagine``, ``blend``, ``upscale#2``, ``variations``, ``vary-subtle``, ``reroll``,
    ``inpaint``, ``outpaint-1.5``, ``pan-left``..."""
    params, action = job.params, job.params.action
    if job.kind is JobKind.UPSAMPLE:
        return f"upscale#{action.index or 1}"
    if job.kind is JobKind.UPSCALE:
        return _upscale_type(job)
    if job.kind is JobKind.VARIATION:
        return f"vary-{action.strength}" if action.strength else "variations"
    if job.kind is JobKind.OUTPAINT:
        ratio = action.zoom_ratio or 2.0
        return f"outpaint-{int(ratio) if ratio.is_integer() else ratio}"
    if job.kind is JobKind.PAN:
        return f"pan-{action.direction or 'up'}"
    if params.references is not None and params.references.mode == "blend":
        return "blend"
    return job.kind.value  # imagine, inpaint, reroll


def _upscale_type(job: Job) -> str:
    """``upscale-subtle``/``-creative`` (asked for by /upscale-alt, whose ``type`` says
    so) or ``upscale-2x``/``-4x`` (/upscale-highres)."""
    asked = job.input.get("type")
    if asked in ("subtle", "creative"):
        return f"upscale-{asked}"
    return f"upscale-{job.params.action.factor or 2}x"


def percentage(job: Job) -> str:
    """A whole number as a string; 0 for a failed job (its cost was refunded)."""
    if job.status is JobStatus.COMPLETED:
        return "100"
    if job.status.is_failure():
        return "0"
    return str(max(0, min(100, int(job.progress))))


def _images(job: Job, url: Callable[[str], str]) -> dict[str, Any]:
    if job.status is not JobStatus.COMPLETED or job.result is None or job.expired:
        return {}
    if not job.kind.makes_grid() or job.result.grid is None:
        return {"image_url": url(job.result.images[0])}
    return {
        "original_image_url": url(job.result.grid),
        "image_urls": [url(key) for key in job.result.images],
    }


def _failure(job: Job) -> dict[str, Any]:
    if not job.status.is_failure():
        return {}
    text = job.error or "Task failed"
    return {"message": text, "error": text}


def task(job: Job, url: Callable[[str], str]) -> Task:
    """The v1 task: grids carry ``original_image_url`` and ``image_urls``, an upsample
    ``image_url``; a failed task says why in ``message`` and ``error``."""
    extra: dict[str, Any] = {**_images(job, url), **_failure(job)}
    if job.expired:
        extra["expired"] = True
    return Task(
        task_id=job.id,
        task_type=task_type(job),
        status=STATUSES[job.status],
        percentage=percentage(job),
        **extra,
    )


def webhook_payload(job: Job, _event: str, url: Callable[[str], str]) -> dict[str, Any]:
    """The v1 webhook body: the task object, exactly as /fetch would show it (any event)."""
    return task(job, url).model_dump(exclude_none=True)


def webhook_headers(job: Job) -> dict[str, str]:
    """``x-webhook-secret``: the caller's ``webhook_secret``, echoed on every POST."""
    if job.webhook is None or not job.webhook.secret:
        return {}
    return {"x-webhook-secret": job.webhook.secret}
