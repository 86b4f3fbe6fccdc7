"""Opening a caller's image: format by content, size checked from the header, then decoded.

Pillow reads only the header on ``Image.open``; pixels are decoded on ``load()``. So the size a
file declares is judged first, and a small file that declares a huge canvas (a decompression
bomb) is refused having cost a few kilobytes, whatever the input: an inpaint mask, a reference
image, an image to upscale.

Usage::

    image = open_image(data, field="mask")                  # RGB or L, at most 4096 a side
    image = open_image(data, field="mask", size=(1024, 1024))  # and exactly this size
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, UnidentifiedImageError

from selfjourney.domain.errors import InvalidImage

#: The largest side of any image a caller sends us, and the most pixels (16.8 MP).
MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE

_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}

#: A use's own rule on the declared (width, height), run before decoding; raises to refuse.
SizeCheck = Callable[[tuple[int, int]], None]


def sniff(data: bytes) -> str | None:
    """PNG, JPEG or WEBP by the first bytes (never by a name or a Content-Type), else None."""
    for signature, kind in _SIGNATURES.items():
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def open_image(
    data: bytes,
    *,
    field: str,
    size: tuple[int, int] | None = None,
    check: SizeCheck | None = None,
    fit: int | None = None,
) -> Image.Image:
    """The decoded image, after its format and declared size pass; InvalidImage otherwise.

    ``size``, when given, is the exact size the image must declare (a mask over a picture);
    ``check`` is the use's own rule on the declared size (it raises to refuse); ``fit`` shrinks
    the image to at most that many pixels a side as it is decoded (a JPEG is decoded at a
    reduced scale outright), so what is kept stays small whatever was sent.
    """
    kind = sniff(data)
    if kind is None:
        raise InvalidImage(f"{field} is not a PNG, JPEG or WebP image", field)
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(_too_large(field, "over 89 million pixels"), field) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidImage(f"{field} could not be decoded as a {kind} image", field) from None
    check_declared_size(image.size, field, size)
    if check is not None:
        check(image.size)
    try:
        if fit is not None:
            image.draft("RGB", (fit, fit))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
            image.thumbnail((fit, fit), Image.Resampling.LANCZOS)
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise InvalidImage(f"{field} could not be decoded as a {kind} image", field) from None
    return image


def check_declared_size(
    declared: tuple[int, int], field: str, expected: tuple[int, int] | None = None
) -> None:
    """Refuse a size over the limits, or other than ``expected``: before decoding."""
    width, height = declared
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise InvalidImage(_too_large(field, f"{width}x{height}"), field)
    if expected is not None and declared != expected:
        raise InvalidImage(
            f"{field} is {width}x{height} but must be {expected[0]}x{expected[1]}, "
            "the size of the picture it goes with",
            field,
        )


def _too_large(field: str, size: str) -> str:
    return f"{field} is {size}; the limit is {MAX_SIDE}x{MAX_SIDE} pixels"
