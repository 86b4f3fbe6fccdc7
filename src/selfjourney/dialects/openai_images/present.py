"""Finished jobs to OpenAI's ``ImagesResponse`` and stream events.

``data[i]`` is grid picture i+1, so the picture a client got at ``data[i]`` is the one U(i+1)
upsamples through any other dialect.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from selfjourney.dialects.openai_images.models import (
    OpenAIImage,
    OpenAIImagesResponse,
    OpenAITokenDetails,
    OpenAIUsage,
)
from selfjourney.domain.jobs import Job
from selfjourney.domain.renditions import Rendition

NAME = "openai"
#: ``quality`` values ``ImagesResponse`` echoes (others are left out of it).
ECHOED_QUALITIES = frozenset({"low", "medium", "high", "xhigh", "max"})
#: ``quality`` values a stream event may carry (the SDK's literal); others are sent as auto.
EVENT_QUALITIES = ECHOED_QUALITIES | {"auto"}


@dataclass(frozen=True)
class Answer:
    """How a request's pictures go back to it."""

    #: The first ``n`` pictures of the grid, in grid order.
    n: int
    rendition: Rendition
    #: ``b64_json`` rather than ``url``.
    b64: bool
    #: Event names when streamed: ``image_generation`` or ``image_edit``.
    events: str
    stream: bool = False
    partial_images: int = 0
    #: The ``quality`` asked (recorded; it changes no pixel).
    quality: str | None = None
    #: Whether pictures carry ``revised_prompt`` (not on /variations: there is no prompt).
    revised_prompt: bool = True
    #: Characters of the prompt as sent (the usage estimate).
    prompt_chars: int = 0


def size_of(job: Job, answer: Answer) -> tuple[int, int]:
    """The pixel size of the answered pictures."""
    assert job.result is not None
    return answer.rendition.size_of((job.result.width, job.result.height))


def size_text(job: Job, answer: Answer) -> str:
    width, height = size_of(job, answer)
    return f"{width}x{height}"


def usage(job: Job, answer: Answer) -> OpenAIUsage:
    """No tokens here: input tokens estimated as a quarter of the prompt's characters; the
    extension ``credits`` is what the request cost the key."""
    tokens = math.ceil(answer.prompt_chars / 4)
    return OpenAIUsage(
        input_tokens=tokens,
        input_tokens_details=OpenAITokenDetails(text_tokens=tokens, image_tokens=0),
        output_tokens=0,
        output_tokens_details=OpenAITokenDetails(text_tokens=0, image_tokens=0),
        total_tokens=tokens,
        credits=job.credit_cost,
    )


def picture(
    job: Job, answer: Answer, *, b64: str | None = None, url: str | None = None
) -> OpenAIImage:
    revised = job.prompt if answer.revised_prompt else None
    return OpenAIImage(b64_json=b64, url=url, revised_prompt=revised)


def images_response(job: Job, answer: Answer, data: list[OpenAIImage]) -> OpenAIImagesResponse:
    completed = job.completed_at or job.created_at
    return OpenAIImagesResponse(
        created=int(completed.timestamp()),
        data=data,
        size=size_text(job, answer),
        output_format=answer.rendition.format,
        background="opaque",
        quality=answer.quality if answer.quality in ECHOED_QUALITIES else None,
        usage=usage(job, answer),
        job_id=job.id,
    )


def event(name: str, data: dict[str, Any]) -> str:
    """One server-sent event: ``event:`` and one ``data:`` line of compact JSON."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _event_fields(
    job: Job, answer: Answer, index: int, b64: str, now: Callable[[], float]
) -> dict[str, Any]:
    return {
        "b64_json": b64,
        "created_at": int(now()),
        "size": size_text(job, answer),
        "quality": answer.quality if answer.quality in EVENT_QUALITIES else "auto",
        "background": "opaque",
        "output_format": answer.rendition.format,
        "image_index": index,
    }


def partial_event(
    job: Job, answer: Answer, index: int, stage: int, b64: str, now: Callable[[], float]
) -> str:
    """A coarser stage of picture ``index`` (0-based), ``stage`` 0, 1, ..."""
    name = f"{answer.events}.partial_image"
    fields = _event_fields(job, answer, index, b64, now)
    return event(name, {"type": name, **fields, "partial_image_index": stage})


def completed_event(
    job: Job, answer: Answer, index: int, b64: str, now: Callable[[], float]
) -> str:
    name = f"{answer.events}.completed"
    fields = _event_fields(job, answer, index, b64, now)
    body = {"type": name, **fields, "usage": usage(job, answer).model_dump(), "job_id": job.id}
    return event(name, body)


def error_event(message: str, code: str | None, job_id: str) -> str:
    """A failure after the stream began; the SDK raises ``APIError`` with the message."""
    error = {
        "message": message,
        "type": "server_error",
        "code": code,
        "param": None,
        "job_id": job_id,
    }
    return event("error", {"type": "error", "error": error})


#: A comment line: proxies see traffic, SSE clients ignore it.
KEEP_ALIVE = ": keep-alive\n\n"


def webhook_payload(job: Job, event_name: str, _url: Callable[[str], str]) -> dict[str, Any]:
    """This dialect has no webhooks (its answer is synchronous); the style needs a payload."""
    return {"event": event_name, "job_id": job.id, "status": job.status.value}
