"""Inpaint masks: decoded and checked before any credit moves, stored as a PNG of mode L."""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import cast

from selfjourney.domain.errors import InvalidImage, InvalidMask
from selfjourney.imaging.inputs import open_image

MAX_MASK_BYTES = 8 * 1024 * 1024
_DATA_URL = re.compile(r"^data:image/[\w.+-]+;base64,", re.IGNORECASE)


def decode_mask(text: str, size: tuple[int, int], field: str = "mask") -> bytes:
    """Turn a base64 (optionally ``data:``) mask into a PNG of mode L, white = repaint.

    The mask must declare exactly ``size`` (the picture's): checked before it is decoded.
    """
    payload = _DATA_URL.sub("", text.strip(), count=1)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMask("mask is not valid base64", field) from None
    if len(raw) > MAX_MASK_BYTES:
        raise InvalidMask(f"mask is {len(raw)} bytes decoded; the limit is 8 MB", field)
    try:
        mask = open_image(raw, field=field, size=size).convert("L")
    except InvalidImage as exc:
        raise InvalidMask(exc.message, field) from None
    extrema = cast(tuple[int, int], mask.getextrema())
    if extrema[1] < 128:
        raise InvalidMask("mask has no white area: nothing to repaint", field)
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()
