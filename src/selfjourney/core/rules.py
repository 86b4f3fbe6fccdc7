"""Rules of the Midjourney button graph: which parent takes which action, and sizes."""

from __future__ import annotations

import math

from selfjourney.core.errors import ActionUnavailable, InvalidInput, InvalidParent
from selfjourney.core.jobs import Direction, Job, JobKind, JobStatus
from selfjourney.core.sizes import floor_8, multiple_of_8

#: Pan stops growing a picture past this many pixels (it is scaled down to fit).
MAX_PIXELS = 2048 * 2048

#: Default credit costs, overridable by settings (Apiframe v2 prices).
DEFAULT_COSTS: dict[str, int] = {
    "imagine": 16,
    "upsample": 4,
    "variation": 16,
    "inpaint": 16,
    "outpaint": 16,
    "pan": 16,
    "reroll": 16,
    #: One price for 2x and 4x, subtle and creative: a CPU super-resolution pass.
    "upscale": 8,
}

#: An upscale's output may not be larger than this on either side (refused at submission).
MAX_UPSCALE_SIDE = 4096
UPSCALE_FACTORS = (2, 4)
UPSCALE_MODES = ("subtle", "creative")

_NEEDS_GRID = frozenset({JobKind.UPSAMPLE, JobKind.VARIATION, JobKind.REROLL})
_NEEDS_UPSAMPLE = frozenset({JobKind.INPAINT, JobKind.OUTPAINT, JobKind.PAN, JobKind.UPSCALE})


def check_parent(parent: Job, action: JobKind) -> None:
    """Refuse an action its parent cannot take: wrong kind (400) or not ready (409)."""
    if action in _NEEDS_GRID and not parent.kind.makes_grid():
        raise InvalidParent(
            f"{action.value} needs a grid job (generate, variation, reroll, inpaint, outpaint "
            "or pan); "
            f"job {parent.id} is an upsample",
            parent.id,
            action.value,
        )
    if action in _NEEDS_UPSAMPLE and parent.kind is not JobKind.UPSAMPLE:
        what = "a 4-image grid" if parent.kind.makes_grid() else f"an {parent.kind.value}"
        raise InvalidParent(
            f"{action.value} needs an upsample job (U1-U4); job {parent.id} is {what}: "
            "upsample one of a grid's images first",
            parent.id,
            action.value,
        )
    if parent.status is not JobStatus.COMPLETED:
        raise ActionUnavailable(
            f"parent job {parent.id} is {parent.status.value}; actions need a COMPLETED job",
            parent.id,
            action.value,
        )
    if parent.expired or parent.result is None:
        raise ActionUnavailable(
            f"the images of parent job {parent.id} are no longer stored", parent.id, action.value
        )


def check_upscale(width: int, height: int, factor: int | None, mode: str | None) -> None:
    """Refuse an upscale with a bad factor or mode, or whose result would pass the cap."""
    if factor not in UPSCALE_FACTORS:
        raise InvalidInput(f"upscale factor must be 2 or 4, not {factor}", "factor")
    if mode not in UPSCALE_MODES:
        raise InvalidInput(f"upscale mode must be subtle or creative, not {mode}", "mode")
    if max(width, height) * factor > MAX_UPSCALE_SIDE:
        raise InvalidInput(
            f"a {factor}x upscale of this {width}x{height} image would be "
            f"{width * factor}x{height * factor}, over the {MAX_UPSCALE_SIDE} px limit; "
            "use a smaller factor",
            "factor",
        )


def pan_frame(
    width: int, height: int, direction: Direction
) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """Box (in source pixels) and output size of a pan: half a side more, capped in pixels."""
    if direction in (Direction.LEFT, Direction.RIGHT):
        grow = multiple_of_8(width / 2)
        box = (
            (-grow, 0, width, height)
            if direction is Direction.LEFT
            else (0, 0, width + grow, height)
        )
    else:
        grow = multiple_of_8(height / 2)
        box = (
            (0, -grow, width, height) if direction is Direction.UP else (0, 0, width, height + grow)
        )
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    if box_w * box_h <= MAX_PIXELS:
        return box, (box_w, box_h)
    shrink = math.sqrt(MAX_PIXELS / (box_w * box_h))
    size = (floor_8(box_w * shrink), floor_8(box_h * shrink))
    return box, size


def zoom_frame(
    width: int, height: int, ratio: float
) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """Box and output size of a zoom out: the same size, showing ``ratio`` times more."""
    pad_x = round(width * (ratio - 1) / 2)
    pad_y = round(height * (ratio - 1) / 2)
    return (-pad_x, -pad_y, width + pad_x, height + pad_y), (width, height)
