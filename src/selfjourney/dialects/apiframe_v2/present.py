"""Core records to Apiframe v2 JSON: jobs, results, timestamps, webhook payloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from selfjourney.dialects.apiframe_v2.models import (
    AcceptedStatus,
    JobAccepted,
    JobDetails,
    JobPublic,
    JobSummary,
    ModelsDetails,
    ServedModel,
)
from selfjourney.domain.jobs import Job, Result
from selfjourney.domain.models import ANY, ModelTable
from selfjourney.domain.rules import follow_ups
from selfjourney.domain.status import JobStatus

NAME = "apiframe_v2"


def timestamp(value: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds, e.g. 2026-03-15T10:00:32.000Z."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def result_json(result: Result | None, url: Callable[[str], str]) -> dict[str, Any] | None:
    """Grids: four image URLs and ``gridUrl``; an upsample: one URL and no ``gridUrl``."""
    if result is None:
        return None
    body: dict[str, Any] = {"images": [url(key) for key in result.images]}
    if result.grid:
        body["gridUrl"] = url(result.grid)
    return body


def _progress(job: Job) -> int:
    if job.status is JobStatus.COMPLETED:
        return 100
    if job.status.is_failure():
        return 0
    return job.progress


def _fields(job: Job, url: Callable[[str], str]) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status.value,
        "model": job.model,
        "progress": _progress(job),
        "result": None if job.expired else result_json(job.result, url),
        "error": job.error,
        "creditCost": job.credit_cost,
        "webhookStatus": job.webhook_status,
        "createdAt": timestamp(job.created_at),
        "completedAt": timestamp(job.completed_at),
        "expired": job.expired,
        "selfjourney": details(job),
    }


def details(job: Job) -> JobDetails:
    """What the vendor's job leaves out: kind, prompt, flags, seed, family, buttons."""
    result = job.result
    return JobDetails(
        kind=job.kind.value,
        prompt=job.prompt,
        flags=job.params.flags.to_json(),
        seed=job.seed,
        parentJobId=job.parent_id,
        args=job.params.action.to_json(),
        model=job.render_model,
        width=None if result is None else result.width,
        height=None if result is None else result.height,
        actions=list(follow_ups(job)),
    )


def models_details(table: ModelTable) -> ModelsDetails:
    """The configured models for ``GET /v2/models``: what each answers to, which is default."""
    aliases: dict[str, list[str]] = {name: [] for name in table.names}
    for alias, name in table.answers.items():
        if alias != name:
            aliases[name].append(alias)
    if table.fallback is not None:
        aliases[table.fallback].append(ANY)
    served = [
        ServedModel(name=name, aliases=answers, default=name == table.default)
        for name, answers in aliases.items()
    ]
    return ModelsDetails(models=served)


def job_summary(job: Job, url: Callable[[str], str]) -> JobSummary:
    return JobSummary(**_fields(job, url))


def job_public(job: Job, url: Callable[[str], str]) -> JobPublic:
    return JobPublic(**_fields(job, url), input=job.input)


def webhook_payload(job: Job, event: str, url: Callable[[str], str]) -> dict[str, Any]:
    """The v2 webhook body. ``type`` repeats ``event`` for SDK versions that read it."""
    body: dict[str, Any] = {
        "event": event,
        "type": event,
        "jobId": job.id,
        "status": job.status.value,
        "progress": _progress(job),
        "model": job.model,
    }
    if event == "progress":
        return body
    body.update(
        result=result_json(job.result, url),
        error=job.error,
        creditCost=job.credit_cost,
        completedAt=timestamp(job.completed_at),
    )
    return body


#: The contract's statuses of a 202 have no CANCELLED (an idempotent replay of a cancelled
#: job): it is shown as FAILED there; the job's own read says CANCELLED.
_ACCEPTED: dict[JobStatus, AcceptedStatus] = {
    JobStatus.QUEUED: "QUEUED",
    JobStatus.PROCESSING: "PROCESSING",
    JobStatus.COMPLETED: "COMPLETED",
    JobStatus.FAILED: "FAILED",
    JobStatus.CANCELLED: "FAILED",
}


def accepted(job: Job) -> JobAccepted:
    """The 202 answer to a submission."""
    return JobAccepted(jobId=job.id, status=_ACCEPTED[job.status])
