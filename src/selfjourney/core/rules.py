"""Rules of the Midjourney button graph: which parent takes which action, and sizes."""

from __future__ import annotations

import math

from selfjourney.core.errors import ActionUnavailable, InvalidInput, InvalidParent
from selfjourney.core.jobs import Direction, Job, JobKind, JobStatus
from selfjourney.core.sizes import floor_8, multiple_of_8, parse_aspect_ratio

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
#: A caller's image (upscale by URL, no parent job) may be at most this large on either side.
MAX_URL_UPSCALE_SIDE = 2048
#: Vary (Subtle) and Vary (Strong); no strength is the ordinary V1-V4 variation.
VARIATION_STRENGTHS = ("subtle", "strong")

_NEEDS_GRID = frozenset({JobKind.UPSAMPLE, JobKind.VARIATION, JobKind.REROLL})
_NEEDS_UPSAMPLE = frozenset({JobKind.INPAINT, JobKind.OUTPAINT, JobKind.PAN, JobKind.UPSCALE})
#: Actions that also take a grid parent plus an ``index``: one step "upsample, then act".
_GRID_WITH_INDEX = frozenset({JobKind.OUTPAINT, JobKind.PAN, JobKind.UPSCALE})


def check_parent(parent: Job, action: JobKind, index: int | None = None) -> None:
    """Refuse an action its parent cannot take: wrong kind (400) or not ready (409).

    Outpaint, pan and upscale need an upsample, or a grid when ``index`` names its image.
    """
    if action in _GRID_WITH_INDEX and index is not None:
        _check_indexed_parent(parent, action, index)
    elif action in _NEEDS_GRID and not parent.kind.makes_grid():
        raise InvalidParent(
            f"{action.value} needs a grid job (generate, variation, reroll, inpaint, outpaint "
            "or pan); "
            f"job {parent.id} is an upsample",
            parent.id,
            action.value,
        )
    elif action in _NEEDS_UPSAMPLE and parent.kind is not JobKind.UPSAMPLE:
        what = "a 4-image grid" if parent.kind.makes_grid() else f"an {parent.kind.value}"
        raise InvalidParent(
            f"{action.value} needs an upsample job (U1-U4); job {parent.id} is {what}: "
            "upsample one of a grid's images first",
            parent.id,
            action.value,
        )
    _check_ready(parent, action)


def _check_indexed_parent(parent: Job, action: JobKind, index: int) -> None:
    if not parent.kind.makes_grid():
        raise InvalidParent(
            f"{action.value} of image {index} needs a grid job (generate, variation...); "
            f"job {parent.id} is an {parent.kind.value}, a single image: send its grid's id",
            parent.id,
            action.value,
        )


def _check_ready(parent: Job, action: JobKind) -> None:
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


def check_strength(action: JobKind, strength: str | None) -> None:
    """A strength only on a variation, and only subtle or strong."""
    if strength is None:
        return
    if action is not JobKind.VARIATION:
        raise InvalidInput(f"strength is for variations only, not {action.value}", "strength")
    if strength not in VARIATION_STRENGTHS:
        raise InvalidInput(
            f"variation strength must be subtle or strong, not {strength}", "strength"
        )


def check_zoom_ratio(ratio: float | None, aspect_ratio: str | None = None) -> None:
    """A zoom out shows more, up to twice as much: a ratio in (1, 2]; or 1 with a new shape
    (``aspect_ratio``), which only widens or heightens the picture."""
    if aspect_ratio is not None:
        parse_aspect_ratio(aspect_ratio)
    if ratio is None or 1 < ratio <= 2 or (ratio == 1 and aspect_ratio is not None):
        return
    if ratio == 1:
        raise InvalidInput(
            "a zoom ratio of 1 zooms out nothing: give aspect_ratio for a new shape "
            "(e.g. 1:1 to make it square), or a ratio over 1 and at most 2",
            "zoom_ratio",
        )
    raise InvalidInput(f"zoom ratio must be over 1 and at most 2, not {ratio:g}", "zoom_ratio")


def check_upscale_options(factor: int | None, mode: str | None) -> None:
    """Refuse an upscale factor other than 2 or 4, or a mode other than subtle or creative."""
    if factor not in UPSCALE_FACTORS:
        raise InvalidInput(f"upscale factor must be 2 or 4, not {factor}", "factor")
    if mode not in UPSCALE_MODES:
        raise InvalidInput(f"upscale mode must be subtle or creative, not {mode}", "mode")


def check_upscale(width: int, height: int, factor: int | None, mode: str | None) -> None:
    """Refuse an upscale with a bad factor or mode, or whose result would pass the cap."""
    check_upscale_options(factor, mode)
    assert factor is not None
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
    width: int, height: int, ratio: float, aspect_ratio: str | None = None
) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """Box and output size of a zoom out: the same size, showing ``ratio`` times more.

    With ``aspect_ratio`` (a custom zoom) the box is the smallest of that shape around the
    zoomed-out one, centred on the source, and the output keeps the source's pixel count.
    """
    if aspect_ratio is None:
        pad_x = round(width * (ratio - 1) / 2)
        pad_y = round(height * (ratio - 1) / 2)
        return (-pad_x, -pad_y, width + pad_x, height + pad_y), (width, height)
    w, h = parse_aspect_ratio(aspect_ratio)
    box_w, box_h = width * ratio, height * ratio
    if box_w / box_h < w / h:
        box_w = box_h * w / h
    else:
        box_h = box_w * h / w
    left, top = -round((box_w - width) / 2), -round((box_h - height) / 2)
    box = (left, top, left + round(box_w), top + round(box_h))
    scale = math.sqrt(width * height / (box_w * box_h))
    return box, (multiple_of_8(box_w * scale), multiple_of_8(box_h * scale))


def check_upscale_image(width: int, height: int, factor: int) -> None:
    """A caller's image to upscale: at most 2048 a side, and a result within the cap.

    Checked by the worker once the image is downloaded (its size is unknown before).
    """
    if max(width, height) > MAX_URL_UPSCALE_SIDE:
        side = MAX_URL_UPSCALE_SIDE
        raise InvalidInput(
            f"the image is {width}x{height}; /upscale-highres takes images up to {side}x{side}",
            "image_url",
        )
    if max(width, height) * factor > MAX_UPSCALE_SIDE:
        raise InvalidInput(
            f"the image is {width}x{height}; a {factor}x upscale would be "
            f"{width * factor}x{height * factor}, over the {MAX_UPSCALE_SIDE} px limit: "
            "use 2x",
            "type",
        )
