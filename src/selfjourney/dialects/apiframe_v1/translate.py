"""Apiframe v1 requests to core commands."""

from __future__ import annotations

from typing import Any

from selfjourney.core.errors import Unsupported
from selfjourney.core.jobs import Act, Direction, Imagine, JobKind, Webhook
from selfjourney.dialects.apiframe_v1.models import (
    HookedRequest,
    ImagineRequest,
    IndexedRequest,
    InpaintRequest,
    OutpaintRequest,
    PanRequest,
    ParentRequest,
    RerollRequest,
    UpscaleAltRequest,
    UpscaleHighresRequest,
)
from selfjourney.dialects.apiframe_v1.render import DIALECT

#: v1 sends only the final result: the terminal events, never progress.
EVENTS = frozenset({"completed", "failed"})
#: Never echoed back in a job's ``input`` (another dialect may show it).
_PRIVATE = {"webhook_secret", "mask"}


def webhook(body: HookedRequest) -> Webhook | None:
    if body.webhook_url is None:
        return None  # a secret without a URL has nothing to go with: ignored
    return Webhook(url=body.webhook_url, events=EVENTS, secret=body.webhook_secret)


def _input(body: HookedRequest) -> dict[str, Any]:
    dumped: dict[str, Any] = body.model_dump(mode="json", exclude_unset=True, exclude=_PRIVATE)
    return dumped


def to_imagine(body: ImagineRequest) -> Imagine:
    """``aspect_ratio`` is the structured field, so it wins over ``--ar`` in the prompt."""
    return Imagine(
        prompt=body.prompt,
        aspect_ratio=body.aspect_ratio,
        webhook=webhook(body),
        input=_input(body),
        dialect=DIALECT,
    )


def _act(body: ParentRequest, action: JobKind, **fields: Any) -> Act:
    return Act(
        parent_id=body.parent_task_id,
        action=action,
        webhook=webhook(body),
        input=_input(body),
        dialect=DIALECT,
        **fields,
    )


def to_upscale(body: IndexedRequest) -> Act:
    return _act(body, JobKind.UPSAMPLE, index=body.index)


def to_variations(body: IndexedRequest) -> Act:
    return _act(body, JobKind.VARIATION, index=body.index)


def to_reroll(body: RerollRequest) -> Act:
    return _act(body, JobKind.REROLL, prompt=body.prompt)


def to_inpaint(body: InpaintRequest) -> Act:
    return _act(body, JobKind.INPAINT, mask=body.mask, prompt=body.prompt)


def to_outpaint(body: OutpaintRequest) -> Act:
    if body.aspect_ratio is not None:
        raise Unsupported(
            "aspect_ratio on /outpaint (a zoom out that changes the shape) is not supported "
            "by this server: zoom out keeps the parent's aspect ratio; leave aspect_ratio out",
            "outpaint.aspect_ratio",
        )
    return _act(body, JobKind.OUTPAINT, zoom_ratio=body.zoom_ratio, prompt=body.prompt)


def to_pan(body: PanRequest) -> Act:
    return _act(body, JobKind.PAN, direction=Direction(body.direction))


def to_upscale_alt(body: UpscaleAltRequest) -> Act:
    """Subtle keeps the details, creative adds some; both double the size."""
    return _act(body, JobKind.UPSCALE, factor=2, mode=body.type)


def to_upscale_highres(body: UpscaleHighresRequest) -> Act:
    """2x or 4x of an upsample (``parent_task_id``); ``image_url`` is not supported."""
    if body.parent_task_id is None:
        raise Unsupported(
            "/upscale-highres of an image_url is not supported by this server: send the "
            "parent_task_id of an upscale (/upscale-1x) task instead. Nothing was charged.",
            "upscale-highres.image_url",
        )
    return Act(
        parent_id=body.parent_task_id,
        action=JobKind.UPSCALE,
        factor=4 if body.type == "4x" else 2,
        mode="subtle",
        webhook=webhook(body),
        input=_input(body),
        dialect=DIALECT,
    )
