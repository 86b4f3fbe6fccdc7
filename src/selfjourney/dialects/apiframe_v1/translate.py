"""Apiframe v1 requests to core commands."""

from __future__ import annotations

from typing import Any

from selfjourney.dialects.apiframe_v1.models import (
    BlendRequest,
    HookedRequest,
    ImagineRequest,
    IndexedRequest,
    InpaintRequest,
    OutpaintRequest,
    PanRequest,
    ParentRequest,
    ProImagineRequest,
    ProPanRequest,
    ProUpscaleRequest,
    ProVaryRequest,
    ProZoomRequest,
    RerollRequest,
    UpscaleAltRequest,
    UpscaleHighresRequest,
)
from selfjourney.dialects.apiframe_v1.present import NAME
from selfjourney.domain.commands import Act, Imagine, UpscaleImage
from selfjourney.domain.errors import InvalidInput
from selfjourney.domain.jobs import Webhook
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex, References
from selfjourney.domain.sizes import Direction

#: v1 sends only the final result: the terminal events, never progress.
EVENTS = frozenset({"completed", "failed"})
#: Never echoed back in a job's ``input`` (another dialect may show it).
_PRIVATE = {"webhook_secret", "mask"}
#: Pro ``mode`` to queue priority, the numbers of midapi's ``speed`` (turbo 2 > fast 1), so
#: turbo runs first whichever dialect sent the other jobs. The Pro API is fast unless told
#: turbo: no mode, and every Pro follow-up, is fast.
PRO_PRIORITY = {"fast": 1, "turbo": 2}
_PRO_FAST = PRO_PRIORITY["fast"]


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
        dialect=NAME,
    )


#: Midjourney's /blend shapes.
BLEND_SHAPES = {"square": "1:1", "portrait": "2:3", "landscape": "3:2"}


def to_blend(body: BlendRequest) -> Imagine:
    """A grid from the images alone (no prompt): their average is the layout, their colours
    the palette (``worker.render.blend_references``)."""
    return Imagine(
        prompt="",
        aspect_ratio=BLEND_SHAPES[body.dimension or "square"],
        references=References(tuple(body.image_urls), "blend", 1.0),
        webhook=webhook(body),
        input=_input(body),
        dialect=NAME,
    )


def _act(
    body: ParentRequest, action: JobKind, args: ActionArgs | None = None, **fields: Any
) -> Act:
    return Act(
        parent_id=body.parent_task_id,
        action=action,
        args=args or ActionArgs(),
        webhook=webhook(body),
        input=_input(body),
        dialect=NAME,
        **fields,
    )


def to_upscale(body: IndexedRequest) -> Act:
    return _act(body, JobKind.UPSAMPLE, ActionArgs(index=GridIndex(body.index)))


def to_variations(body: IndexedRequest) -> Act:
    return _act(body, JobKind.VARIATION, ActionArgs(index=GridIndex(body.index)))


def to_reroll(body: RerollRequest) -> Act:
    return _act(body, JobKind.REROLL, prompt=body.prompt)


def to_inpaint(body: InpaintRequest) -> Act:
    return _act(body, JobKind.INPAINT, mask=body.mask, prompt=body.prompt)


def to_outpaint(body: OutpaintRequest) -> Act:
    """Zoom out; with ``aspect_ratio`` a custom zoom to that shape (``zoom_ratio`` 1 too)."""
    args = ActionArgs(zoom_ratio=body.zoom_ratio, shape=body.aspect_ratio)
    return _act(body, JobKind.OUTPAINT, args, prompt=body.prompt)


def to_pan(body: PanRequest) -> Act:
    return _act(body, JobKind.PAN, ActionArgs(direction=Direction(body.direction)))


def to_upscale_alt(body: UpscaleAltRequest) -> Act:
    """Subtle keeps the details, creative adds some; both double the size."""
    return _act(body, JobKind.UPSCALE, ActionArgs(factor=2, mode=body.type))


def to_upscale_highres(body: UpscaleHighresRequest) -> Act | UpscaleImage:
    """2x or 4x, subtle: of an upsample (``parent_task_id``; ``index`` is ignored) or of a
    caller's image (``image_url``), exactly one of the two."""
    factor = 4 if body.type == "4x" else 2
    if body.parent_task_id is not None and body.image_url is not None:
        raise InvalidInput(
            "send either parent_task_id (an upscale task) or image_url, not both", "image_url"
        )
    if body.image_url is not None:
        return UpscaleImage(
            image_url=body.image_url,
            factor=factor,
            webhook=webhook(body),
            input=_input(body),
            dialect=NAME,
        )
    if body.parent_task_id is None:
        raise InvalidInput(
            "send parent_task_id (an upscale task) or image_url (an image up to 2048x2048)",
            "parent_task_id",
        )
    return Act(
        parent_id=body.parent_task_id,
        action=JobKind.UPSCALE,
        args=ActionArgs(factor=factor, mode="subtle"),
        webhook=webhook(body),
        input=_input(body),
        dialect=NAME,
    )


def to_pro_imagine(body: ProImagineRequest) -> Imagine:
    """A 1:1 grid (or the prompt's ``--ar``), queued by ``mode``."""
    return Imagine(
        prompt=body.prompt,
        webhook=webhook(body),
        input=_input(body),
        dialect=NAME,
        priority=PRO_PRIORITY[body.mode or "fast"],
    )


def to_pro_variations(body: IndexedRequest) -> Act:
    args = ActionArgs(index=GridIndex(body.index))
    return _act(body, JobKind.VARIATION, args, priority=_PRO_FAST)


def to_pro_vary(body: ProVaryRequest) -> Act:
    """Vary (Subtle) or Vary (Strong): a variation of that strength."""
    args = ActionArgs(index=GridIndex(body.index), strength=body.type)
    return _act(body, JobKind.VARIATION, args, priority=_PRO_FAST)


def to_pro_upscale(body: ProUpscaleRequest) -> Act:
    """A 2x upscale of grid image ``index`` (no upscale-1x first), subtle or creative."""
    args = ActionArgs(index=GridIndex(body.index), factor=2, mode=body.type)
    return _act(body, JobKind.UPSCALE, args, priority=_PRO_FAST)


def to_pro_pan(body: ProPanRequest) -> Act:
    args = ActionArgs(index=GridIndex(body.index), direction=Direction(body.type))
    return _act(body, JobKind.PAN, args, priority=_PRO_FAST)


def to_pro_zoom(body: ProZoomRequest) -> Act:
    """Zoom out of grid image ``index`` by ``type``, a ratio in (1, 2]."""
    args = ActionArgs(index=GridIndex(body.index), zoom_ratio=float(body.type))
    return _act(body, JobKind.OUTPAINT, args, priority=_PRO_FAST)
