"""Picture sizes: aspect ratios to pixels (about one megapixel, sides multiples of 8)."""

from __future__ import annotations

import math

from selfjourney.core.errors import InvalidAspectRatio

#: About one megapixel per grid image, like Midjourney's own outputs.
_TARGET_SIDE = 1024


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
