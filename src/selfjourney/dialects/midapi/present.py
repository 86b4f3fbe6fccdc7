"""Core records to midapi JSON: record-info, callbacks, timestamps.

Any job renders here, whichever dialect made it, so a key can read its /v2 jobs through
record-info too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from selfjourney.dialects.midapi.models import MidapiRecordInfo, MidapiResultInfo, MidapiResultUrl
from selfjourney.domain.jobs import Job
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.status import JobStatus

NAME = "midapi"

#: ``errorCode`` of a FAILED task: the envelope's "Generation Failed" code.
GENERATION_FAILED = 501
FAILED_MSG = "Image generation failed"
EXPIRED_MSG = "The images of this task have expired and were deleted"

#: ``taskType`` of an imagine by its reference mode (none: text to image).
_IMAGINE_TYPES = {
    None: "mj_txt2img",
    "image": "mj_img2img",
    "style": "mj_style_reference",
    "omni": "mj_omni_reference",
    "blend": "mj_img2img",  # an Apiframe v1 /blend: images guide it, midapi has no blend
}
#: ``taskType`` of the other job kinds. midapi has only upscale and vary; the rest are jobs
#: made through another dialect, named in the same style.
_ACTION_TYPES = {
    JobKind.UPSAMPLE: "mj_upscale",
    JobKind.VARIATION: "mj_vary",
    JobKind.INPAINT: "mj_vary_region",
    JobKind.OUTPAINT: "mj_zoom_out",
    JobKind.PAN: "mj_pan",
    JobKind.REROLL: "mj_reroll",
    JobKind.UPSCALE: "mj_upscale_hd",
}


def timestamp(value: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds, e.g. 2024-03-20T10:30:00.000Z (the docs' format)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def task_type(job: Job) -> str:
    """The midapi taskType: the generate type the request named, or the action's own type."""
    if job.kind is JobKind.IMAGINE:
        references = job.params.references
        return _IMAGINE_TYPES.get(references.mode if references else None, "mj_txt2img")
    return _ACTION_TYPES[job.kind]


def success_flag(job: Job) -> Literal[0, 1, 3]:
    """0 generating (queued or running), 1 success, 3 "created but generation failed".

    2 ("failed to create") is never produced: a task that cannot be created is refused by
    the create call itself and never gets a taskId.
    """
    if job.status is JobStatus.COMPLETED:
        return 1
    if job.status.is_failure():
        return 3
    return 0


def param_json(job: Job) -> str:
    """The request as the caller sent it (the job's ``input``), keys sorted, compact; on a
    server with a models table also ``selfjourneyModel``, the model that renders it (the
    vendor's copy is normalised too; ``model`` would clash with a v2 request's own)."""
    named = {"selfjourneyModel": job.render_model} if job.render_model else {}
    params = {**job.input, **named}
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def result_urls(job: Job, url: Callable[[str], str]) -> list[str]:
    """The image URLs: four for a grid, one for an upscale; none until done or once purged."""
    if job.status is not JobStatus.COMPLETED or job.result is None or job.expired:
        return []
    return [url(key) for key in job.result.images]


def _result_info(job: Job, url: Callable[[str], str]) -> MidapiResultInfo | None:
    urls = result_urls(job, url)
    return (
        MidapiResultInfo(resultUrls=[MidapiResultUrl(resultUrl=u) for u in urls]) if urls else None
    )


def _error_message(job: Job) -> str | None:
    if job.status.is_failure():
        return job.error or FAILED_MSG
    return EXPIRED_MSG if job.expired else None


def record_info(job: Job, url: Callable[[str], str]) -> MidapiRecordInfo:
    return MidapiRecordInfo(
        taskId=job.id,
        taskType=task_type(job),
        paramJson=param_json(job),
        completeTime=timestamp(job.completed_at) if job.status.is_terminal() else None,
        resultInfoJson=_result_info(job, url),
        successFlag=success_flag(job),
        createTime=timestamp(job.created_at) or "",
        errorCode=GENERATION_FAILED if job.status.is_failure() else None,
        errorMessage=_error_message(job),
    )


def failure_msg(job: Job) -> str:
    """``Image generation failed`` and the reason, said once."""
    reason = job.error or ""
    if reason.startswith(FAILED_MSG):
        return reason
    return f"{FAILED_MSG}: {reason}" if reason else FAILED_MSG


def callback_payload(job: Job, event: str, url: Callable[[str], str]) -> dict[str, Any]:
    """The documented callback ``{code, msg, data: {taskId, promptJson, resultUrls}}``.

    ``successFlag`` and ``resultInfoJson`` are added, as record-info has them: some clients
    read those from callbacks too (spec §8.2).
    """
    ok = event == "completed"
    urls = result_urls(job, url)
    return {
        "code": 200 if ok else 500,
        "msg": "success" if ok else failure_msg(job),
        "data": {
            "taskId": job.id,
            "promptJson": param_json(job),
            "resultUrls": urls,
            "successFlag": success_flag(job),
            "resultInfoJson": {"resultUrls": [{"resultUrl": u} for u in urls]} if urls else None,
        },
    }
