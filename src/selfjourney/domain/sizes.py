"""Picture sizes: aspect ratios to pixels (about one megapixel, sides multiples of 8), and the
frames of a pan and a zoom out."""

from __future__ import annotations

import enum
import math

from selfjourney.domain.errors import InvalidAspectRatio


class Direction(enum.StrEnum):
    """Which way a pan extends a picture."""

    UP = "up"
    DOWN = "down"
    LEFT = "left"
    RIGHT = "right"


#: About one megapixel per grid image, like Midjourney's own outputs.
_TARGET_SIDE = 1024
#: Pan stops growing a picture past this many pixels (it is scaled down to fit).
MAX_PIXELS = 2048 * 2048


def parse_aspect_ratio(ratio: str) -> tuple[int, int]:
    """Read ``W:H`` and refuse zero sides or shapes beyond 1:3 and 3:1."""
    try:
        w_text, h_text = ratio.split(":")
        w, h = int(w_text), int(h_text)
    except ValueError:
        raise InvalidAspectRatio(
            f"aspect ratio {ratio!r} must look like W:H, e.g. 16:9", "aspect_ratio"
        ) from None
    if w <= 0 or h <= 0:
        raise InvalidAspectRatio(f"aspect ratio {ratio} needs two positive sides", "aspect_ratio")
    if w > 3 * h or h > 3 * w:
        raise InvalidAspectRatio(
            f"aspect ratio {ratio} is out of range: allowed from 1:3 to 3:1", "aspect_ratio"
        )
    return w, h


def grid_image_size(ratio: str) -> tuple[int, int]:
    """Pixel size of one grid image: the ratio at about 1 MP, sides multiples of 8."""
    w, h = parse_aspect_ratio(ratio)
    scale = math.sqrt(w / h)
    return multiple_of_8(_TARGET_SIDE * scale), multiple_of_8(_TARGET_SIDE / scale)


def floor_8(value: float) -> int:
    return max(8, int(value) // 8 * 8)


def multiple_of_8(value: float) -> int:
    return max(8, int(round(value / 8)) * 8)


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
