"""Inpaint masks: decoded and checked before any credit moves, stored as a PNG of mode L."""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import cast

from PIL import Image

from selfjourney.domain.errors import InvalidImage, InvalidMask
from selfjourney.imaging.inputs import open_image

MAX_MASK_BYTES = 8 * 1024 * 1024
#: A canvas mask may differ from the picture's aspect ratio by this much (display rounding).
CANVAS_SHAPE_TOLERANCE = 0.02
_DATA_URL = re.compile(r"^data:image/[\w.+-]+;base64,", re.IGNORECASE)


def decode_mask(
    text: str, size: tuple[int, int], field: str = "mask", *, canvas: bool = False
) -> bytes:
    """Turn a base64 (optionally ``data:``) mask into a PNG of mode L, white = repaint.

    The mask must declare exactly ``size`` (the picture's): checked before it is decoded.
    A ``canvas`` mask (a browser export) may declare another size of the same shape, and
    counts a pixel as white only where it is also opaque (alpha >= 128).
    """
    raw = _decode_base64(text, field)
    try:
        if canvas:
            mask = _canvas_mask(raw, size, field)
        else:
            mask = open_image(raw, field=field, size=size).convert("L")
    except InvalidImage as exc:
        raise InvalidMask(exc.message, field) from None
    extrema = cast(tuple[int, int], mask.getextrema())
    if extrema[1] < 128:
        raise InvalidMask("mask has no white area: nothing to repaint", field)
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


def _decode_base64(text: str, field: str) -> bytes:
    payload = _DATA_URL.sub("", text.strip(), count=1)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMask(f"{field} is not valid base64", field) from None
    if len(raw) > MAX_MASK_BYTES:
        raise InvalidMask(f"{field} is {len(raw)} bytes decoded; the limit is 8 MB", field)
    return raw


def _canvas_mask(raw: bytes, size: tuple[int, int], field: str) -> Image.Image:
    """White (luminance >= 128) and opaque = repaint, at the picture's ``size``."""

    def same_shape(declared: tuple[int, int]) -> None:
        wanted, got = size[0] / size[1], declared[0] / declared[1]
        if abs(got / wanted - 1) > CANVAS_SHAPE_TOLERANCE:
            raise InvalidMask(
                f"{field} is {declared[0]}x{declared[1]} but the picture is {size[0]}x{size[1]}: "
                "send a mask of the picture's size or shape",
                field,
            )

    image = open_image(raw, field=field, check=same_shape)
    white = image.convert("L").point(lambda value: 255 if value >= 128 else 0)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        opaque = image.convert("RGBA").getchannel("A").point(lambda a: 255 if a >= 128 else 0)
        white = Image.composite(white, Image.new("L", white.size, 0), opaque)
    if white.size != size:
        white = white.resize(size, Image.Resampling.NEAREST)
    return white
