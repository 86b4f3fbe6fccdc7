"""Apiframe v1 wire models.

Lenient like the real v1: the SDK's request types are ``TypedDict(total=False)`` and it sends
whatever dict its caller builds, so unknown keys are ignored (never a 400) and an explicit
``null`` counts as an absent optional field. Known fields are checked for type and range.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: Printable ASCII: the secret travels back in an HTTP header, so no CR/LF or control bytes.
_HEADER_SAFE = r"^[\x20-\x7e]+$"


def _absolute_url(value: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        raise ValueError("must be an absolute URL, e.g. https://example.com/hook")
    return value


def _task_id(value: str) -> str:
    if not _UUID.match(value):
        raise ValueError("must be a task id (a UUID)")
    return value.lower()


def _grid_index(value: Any) -> int:
    """1-4 as the SDK sends it (``"2"``) or as a direct caller may (``2``)."""
    if isinstance(value, str) and value in ("1", "2", "3", "4"):
        return int(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value in (1, 2, 3, 4):
        return int(value)
    raise ValueError('must be one of "1", "2", "3", "4"')


def _number(value: Any) -> float | None:
    """A finite number, sent as one or as a numeric string; None for anything else."""
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    if isinstance(number, int | float) and not isinstance(number, bool) and math.isfinite(number):
        return float(number)
    return None


def _zoom_out(value: Any) -> float:
    """A zoom out ratio (``/outpaint``'s ``zoom_ratio``, the Pro zoom's ``type``): 1.5, 2 or
    any number in (1, 2], as a number or a numeric string.

    The docs list ``1.5 | 2 | (1,2] | 1`` and the SDK's docstring writes ``'{1, 2}'`` for "a
    value between 1 and 2"; ``1`` (no zoom out at all) and anything else are refused.
    """
    number = _number(value)
    if number is not None and 1 < number <= 2:
        return number
    raise ValueError(
        'must be "1.5", "2" or a number over 1 and at most 2 (e.g. "1.25"), as a string or '
        "a number: the zoom out ratio; 1 (no zoom) and other values are refused"
    )


TaskId = Annotated[str, AfterValidator(_task_id), Field(json_schema_extra={"format": "uuid"})]
WebhookUrl = Annotated[
    str,
    AfterValidator(_absolute_url),
    Field(max_length=2048, json_schema_extra={"format": "uri"}),
]
WebhookSecret = Annotated[str, Field(min_length=1, max_length=256, pattern=_HEADER_SAFE)]
GridIndex = Annotated[
    int,
    BeforeValidator(_grid_index),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": ["1", "2", "3", "4"]},
                {"type": "integer", "enum": [1, 2, 3, 4]},
            ]
        }
    ),
]


def _outpaint_zoom(value: Any) -> float:
    """``/outpaint``'s ``zoom_ratio``: as the Pro zoom, plus 1 (checked with aspect_ratio)."""
    number = _number(value)
    if number == 1:
        return 1.0
    try:
        return _zoom_out(value)
    except ValueError:
        raise ValueError(
            "must be 1.5, 2 or a number over 1 and at most 2 (e.g. 1.25), as a number or a "
            "string; or 1 with an aspect_ratio (a change of shape only)"
        ) from None


OutpaintZoom = Annotated[
    float,
    BeforeValidator(_outpaint_zoom),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 1, "maximum": 2},
                {"type": "string", "examples": ["1.5", "2", "1"]},
            ]
        }
    ),
]
ZoomOut = Annotated[
    float,
    BeforeValidator(_zoom_out),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 1, "maximum": 2},
                {"type": "string", "examples": ["1.5", "2", "1.25"]},
            ]
        }
    ),
]
Prompt = Annotated[str, Field(min_length=1, max_length=4000)]


class _Lenient(BaseModel):
    """Unknown keys are dropped, as the real v1 does with the SDK's free-form dicts."""

    model_config = ConfigDict(extra="ignore")


class HookedRequest(_Lenient):
    """The optional webhook pair every submit endpoint takes."""

    webhook_url: WebhookUrl | None = None
    #: Echoed back in ``x-webhook-secret`` on each webhook POST (ignored without a URL).
    webhook_secret: WebhookSecret | None = None


class ImagineRequest(HookedRequest):
    """POST /imagine. ``aspect_ratio`` wins over an ``--ar`` flag in the prompt."""

    prompt: Prompt
    aspect_ratio: Annotated[str, Field(max_length=16, examples=["16:9"])] | None = None


class BlendRequest(HookedRequest):
    """POST /blend: 2-5 images mixed into a new grid; ``dimension`` is its shape."""

    image_urls: Annotated[list[WebhookUrl], Field(min_length=2, max_length=5)]
    dimension: Literal["square", "portrait", "landscape"] | None = None


class ParentRequest(HookedRequest):
    parent_task_id: TaskId


class IndexedRequest(ParentRequest):
    """POST /upscale-1x and /variations: one of the parent grid's four images."""

    index: GridIndex


class RerollRequest(ParentRequest):
    prompt: Prompt | None = None


#: The inpaint mask, as the core reads it (``imaging/masks.py``).
MASK_FORMAT = (
    "The region to repaint: an image (PNG, JPEG or WebP) exactly the size of the parent "
    "upsample, base64-encoded, optionally as a data: URL (data:image/png;base64,...); at most "
    "8 MB decoded. It is read as greyscale: white (>= 128) is repainted, black is kept, and "
    "transparency is ignored, so paint the kept area black. It must mark some area."
)


class InpaintRequest(ParentRequest):
    mask: Annotated[str, Field(min_length=1, max_length=12_000_000, description=MASK_FORMAT)]
    prompt: Prompt


class OutpaintRequest(ParentRequest):
    """POST /outpaint: zoom out by ``zoom_ratio``; ``aspect_ratio`` changes the shape too."""

    zoom_ratio: OutpaintZoom
    aspect_ratio: Annotated[str, Field(max_length=16)] | None = None
    prompt: Prompt | None = None


class PanRequest(ParentRequest):
    direction: Literal["up", "down", "left", "right"]


class UpscaleAltRequest(ParentRequest):
    type: Literal["subtle", "creative"]


class UpscaleHighresRequest(HookedRequest):
    parent_task_id: TaskId | None = None
    image_url: Annotated[str, Field(max_length=2048)] | None = None
    type: Literal["2x", "4x"]
    index: GridIndex | None = None


class ProImagineRequest(HookedRequest):
    """POST /pro/midjourney/imagine: ``mode`` is the queue priority (turbo before fast)."""

    prompt: Prompt
    mode: Literal["fast", "turbo"] | None = None


class ProVaryRequest(IndexedRequest):
    """POST /pro/midjourney/vary: Vary (Subtle) or Vary (Strong) of one grid image."""

    type: Literal["subtle", "strong"]


class ProUpscaleRequest(IndexedRequest):
    """POST /pro/midjourney/upscale: a 2x upscale of one grid image."""

    type: Literal["subtle", "creative"]


class ProPanRequest(IndexedRequest):
    """POST /pro/midjourney/pan: the direction is in ``type``, not ``direction``."""

    type: Literal["up", "down", "left", "right"]


class ProZoomRequest(IndexedRequest):
    """POST /pro/midjourney/zoom: zoom out of one grid image by ``type``."""

    type: ZoomOut


class SeedRequest(HookedRequest):
    task_id: TaskId


class FetchRequest(_Lenient):
    task_id: TaskId


class FetchManyRequest(_Lenient):
    task_ids: Annotated[list[TaskId], Field(min_length=2, max_length=20)]


class TaskAccepted(BaseModel):
    """A submit's answer; the SDK copies ``task_id`` to ``id``."""

    task_id: str


TaskStatus = Literal["pending", "processing", "completed", "failed"]


class Task(BaseModel):
    """A task as /fetch, /fetch-many and webhooks show it (unset fields are left out)."""

    task_id: str
    task_type: str
    status: TaskStatus
    #: Whole percent as a base-10 string ("40"): the SDK reads it with ``int()``.
    percentage: str
    original_image_url: str | None = None
    image_urls: list[str] | None = None
    image_url: str | None = None
    message: str | None = None
    error: str | None = None
    expired: bool | None = None


class TaskList(BaseModel):
    tasks: list[Task]


class Seed(BaseModel):
    task_id: str
    seed: str


class AccountInfo(BaseModel):
    email: str
    credits: int
    total_images: int
    plan: str


class ErrorItem(BaseModel):
    """One problem, in the express-validator shape the v1 docs show (``msg``)."""

    msg: str
    path: str | None = None
    location: str | None = None


class ErrorResponse(BaseModel):
    """``errors`` for v1's documented clients, ``message`` and ``code`` for the SDK."""

    errors: list[ErrorItem]
    message: str
    code: str


class InsufficientCreditsResponse(ErrorResponse):
    credits_required: int
    credits_available: int
