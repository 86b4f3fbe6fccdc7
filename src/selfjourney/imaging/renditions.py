"""Renditions of stored pictures: resized to an exact size, encoded as PNG, JPEG or WebP.

Only the server's own stored PNGs come here (never a caller's bytes), so they are opened
without the checks of ``inputs``.

Usage::

    data = render(stored_png, Rendition(format="jpeg", size=(512, 512), quality=80))
    coarse = render(stored_png, Rendition(), coarse=8)   # blurred: drawn at 1/8, scaled back
"""

from __future__ import annotations

import io

from PIL import Image

from selfjourney.domain.renditions import Rendition

#: PNGs made here favour speed, like the stored ones.
PNG_COMPRESS_LEVEL = 1
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def render(stored: bytes, rendition: Rendition, *, coarse: int = 1) -> bytes:
    """The stored picture as ``rendition`` asks (Lanczos to its size), encoded.

    ``coarse`` > 1 gives a coarser stage of the same picture at the same size: drawn at
    1/``coarse`` of each side, then scaled back (a streamed partial image).
    """
    with Image.open(io.BytesIO(stored)) as opened:
        image = opened.convert("RGB")
    size = rendition.size_of(image.size)
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    if coarse > 1:
        small = (max(1, size[0] // coarse), max(1, size[1] // coarse))
        image = image.resize(small, Image.Resampling.BOX).resize(size, Image.Resampling.BILINEAR)
    return encode(image, rendition)


def encode(image: Image.Image, rendition: Rendition) -> bytes:
    """``image`` in the rendition's format and quality."""
    out = io.BytesIO()
    if rendition.format == "png":
        image.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    else:
        image.save(out, format=_PIL_FORMATS[rendition.format], quality=rendition.quality)
    return out.getvalue()
