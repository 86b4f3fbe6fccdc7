"""A visible text watermark for delivered images (midapi ``waterMark``).

The text sits in the bottom-right corner, white at about 60 % opacity over a soft dark shadow,
so it reads on light and dark pictures alike. Its size follows the image (3.6 % of the side of
a square of the same area) and it never leaves the bottom-right quarter: long text is set
smaller (down to half size), then cut with an ellipsis. Pillow's built-in font is used, so no
font file has to ship.

Usage::

    marked = apply_watermark(image, "selfjourney")
    box = watermark_box(image.size, "selfjourney")  # where pixels may differ, or None
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

_SCALE = 0.036  # font size as a share of the image's geometric mean side
_MIN_SIZE = 5  # smaller text is not drawn: not even a blur of it would read
_TEXT = (255, 255, 255, 155)
_SHADOW = (0, 0, 0, 120)
_ELLIPSIS = "…"


@dataclass(frozen=True)
class _Layout:
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    text: str
    origin: tuple[int, int]  # where the text is drawn
    box: tuple[int, int, int, int]  # every pixel the text and its shadow may touch
    shadow: int  # shadow offset and blur, pixels


def apply_watermark(image: Image.Image, text: str) -> Image.Image:
    """The image with ``text`` drawn semi-transparently in its bottom-right corner.

    Pure and deterministic: a new image (the same mode, RGB for palette images), the input
    untouched; blank text, or an image too small for any of it, comes back unchanged.
    """
    layout = _layout(image.size, text)
    if layout is None:
        return image
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    shadow = Image.new("RGBA", image.size, (0, 0, 0, 0))
    x, y = layout.origin
    ImageDraw.Draw(shadow).text(
        (x + layout.shadow, y + layout.shadow), layout.text, _SHADOW, layout.font
    )
    overlay = Image.alpha_composite(
        overlay, shadow.filter(ImageFilter.GaussianBlur(layout.shadow / 2))
    )
    ImageDraw.Draw(overlay).text((x, y), layout.text, _TEXT, layout.font)
    mode = image.mode if image.mode in ("RGB", "RGBA", "L", "LA") else "RGB"
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert(mode)


def watermark_box(size: tuple[int, int], text: str) -> tuple[int, int, int, int] | None:
    """The (left, top, right, bottom) region ``apply_watermark`` may change, or None if none."""
    layout = _layout(size, text)
    return None if layout is None else layout.box


def _layout(size: tuple[int, int], text: str) -> _Layout | None:
    """Font, text and place that fit the corner: the image's size first, then smaller, then cut."""
    text = " ".join(text.split())
    font_size = max(_MIN_SIZE, round((size[0] * size[1]) ** 0.5 * _SCALE))
    if not text:
        return None
    font = ImageFont.load_default(size=font_size)
    room = _room(size, font_size)
    left, top, right, bottom = font.getbbox(text)
    if right - left > room[0] or bottom - top > room[1]:
        scale = min(room[0] / max(1, right - left), room[1] / max(1, bottom - top))
        font_size = max(_MIN_SIZE, font_size // 2, int(font_size * scale))
        font = ImageFont.load_default(size=font_size)
        room = _room(size, font_size)
    fitted = _fit(font, text, room)
    return None if fitted is None else _place(font, font_size, fitted, size)


def _spacing(font_size: int) -> tuple[int, int, int]:
    """Margin from the edges, shadow offset, and how far the blurred shadow spreads: pixels."""
    shadow = max(1, font_size // 12)
    return max(1, font_size // 3), shadow, 2 * shadow


def _room(size: tuple[int, int], font_size: int) -> tuple[int, int]:
    """Width and height the text itself may take so that all it touches stays in the corner."""
    margin, shadow, spread = _spacing(font_size)
    return (
        (size[0] + 1) // 2 - margin - shadow - spread,
        (size[1] + 1) // 2 - margin - shadow - spread,
    )


def _fit(
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str, room: tuple[int, int]
) -> str | None:
    """The longest start of ``text`` (with an ellipsis if cut) that fits ``room``; None if none."""

    def fits(candidate: str) -> bool:
        left, top, right, bottom = font.getbbox(candidate)
        return right - left <= room[0] and bottom - top <= room[1]

    if min(room) < 1:
        return None
    if fits(text):
        return text
    lo, hi = 0, len(text) - 1  # the longest cut that fits has lo characters (0: none does)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[:mid].rstrip() + _ELLIPSIS):
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + _ELLIPSIS if lo else None


def _place(
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    font_size: int,
    text: str,
    size: tuple[int, int],
) -> _Layout:
    """Bottom-right, inside the margin; the box covers the text and its blurred shadow."""
    width, height = size
    margin, shadow, spread = _spacing(font_size)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    x, y = width - margin - shadow - right, height - margin - shadow - bottom
    box = (
        max(0, x + left - spread),
        max(0, y + top - spread),
        min(width, x + right + shadow + spread),
        min(height, y + bottom + shadow + spread),
    )
    return _Layout(font, text, (x, y), box, shadow)
