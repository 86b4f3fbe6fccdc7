"""Images a caller sends inline (not by URL), made ready to store: checked by their declared
size first (``inputs``), then turned into what the worker reads back, a PNG.

Usage::

    picture, sent_size = edit_picture(data, field="image")     # RGB, at most 2048 a side
    mask = edit_mask(mask_data, sent_size, picture.size)       # PNG of mode L, white = edit
    picture, sent_size = edit_picture(data, field="image", ratio=(3, 2))  # centre crop first
    reference = reference_image(data, field="base64Array.0")   # RGB, at most 1024 a side
"""

from __future__ import annotations

import io
from typing import cast

from PIL import Image, ImageOps

from selfjourney.domain.errors import InvalidImage, InvalidMask
from selfjourney.imaging.inputs import open_image

#: A picture to edit larger than this on its long side is scaled down to it (a phone photo).
EDIT_SIDE = 2048
#: Sides shorter than this cannot be edited (nothing a grid could be drawn from).
MIN_EDIT_SIDE = 16
#: Inline references guide a picture of about a megapixel; more pixels add nothing.
REFERENCE_SIDE = 1024


def edit_picture(
    data: bytes, *, field: str, ratio: tuple[int, int] | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """The picture to edit, upright (EXIF), flattened onto white, RGB, cropped around its
    centre to ``ratio`` (W, H) if given, at most 2048 a side; and the size it was sent at (its
    mask must have that size)."""
    image = open_image(data, field=field)
    sent = image.size
    _check_min_side(sent, field)
    image = ImageOps.exif_transpose(image)
    picture = _flatten(image)
    if ratio is not None:
        picture = picture.crop(centre_crop(picture.size, ratio))
        _check_min_side(picture.size, field, f" once cropped to {ratio[0]}:{ratio[1]}")
    if max(picture.size) > EDIT_SIDE:
        picture.thumbnail((EDIT_SIDE, EDIT_SIDE), Image.Resampling.LANCZOS)
    return picture, sent


def edit_mask(
    data: bytes,
    sent: tuple[int, int],
    size: tuple[int, int],
    *,
    field: str = "mask",
    ratio: tuple[int, int] | None = None,
) -> bytes:
    """The core's mask (PNG, mode L, white = edit) from a caller's, at the picture's ``size``.

    It must have the size the picture was sent at, and follows its crop to ``ratio``. With any
    transparent pixel, alpha < 128 marks the edit (OpenAI's rule); with none, luminance >= 128
    (white repaints).
    """
    try:
        image = open_image(data, field=field, size=sent)
    except InvalidImage as exc:
        raise InvalidMask(exc.message, field) from None
    mask = _editable(image)
    if ratio is not None:
        mask = mask.crop(centre_crop(mask.size, ratio))
    if mask.size != size:
        mask = mask.resize(size, Image.Resampling.NEAREST)
    if cast(tuple[int, int], mask.getextrema())[1] < 128:
        raise InvalidMask(f"{field} marks no area to edit", field)
    return encode_png(mask)


def _check_min_side(size: tuple[int, int], field: str, how: str = "") -> None:
    if min(size) < MIN_EDIT_SIDE:
        raise InvalidImage(
            f"{field} is {size[0]}x{size[1]}{how}; a picture to edit needs sides of at least "
            f"{MIN_EDIT_SIDE} pixels",
            field,
        )


def has_transparency(data: bytes, *, field: str) -> bool:
    """Whether a caller's picture has any pixel that is not fully opaque."""
    image = open_image(data, field=field)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = image.convert("RGBA").getchannel("A")
        return cast(tuple[int, int], alpha.getextrema())[0] < 255
    return False


def centre_crop(size: tuple[int, int], ratio: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest box of shape ``ratio`` (W, H) centred in a picture of ``size``."""
    width, height = size
    if width * ratio[1] > height * ratio[0]:  # too wide: keep the height
        width = max(1, round(height * ratio[0] / ratio[1]))
    else:
        height = max(1, round(width * ratio[1] / ratio[0]))
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    return left, top, left + width, top + height


def reference_image(data: bytes, *, field: str) -> Image.Image:
    """A reference image sent inline: RGB, at most 1024 a side (shrunk as it is decoded)."""
    return open_image(data, field=field, fit=REFERENCE_SIDE).convert("RGB")


def encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """Transparency composited onto white; the core's pictures are RGB."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _editable(image: Image.Image) -> Image.Image:
    """White where the caller's mask says to edit."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = image.convert("RGBA").getchannel("A")
        if cast(tuple[int, int], alpha.getextrema())[0] < 255:
            return alpha.point(lambda value: 255 if value < 128 else 0)
    return image.convert("L").point(lambda value: 255 if value >= 128 else 0)
