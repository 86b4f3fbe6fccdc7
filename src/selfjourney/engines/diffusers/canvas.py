"""Pixel geometry around a pipeline, without torch: the tiles of a refine pass and their
feathered weights, the canvas and mask of a pan or zoom out, and pasting kept pixels back."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageOps

from selfjourney.engines.base import Frame


def tile_boxes(size: tuple[int, int], tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Equal boxes of at most ``tile`` a side covering ``size``, neighbours overlapping by at
    least ``overlap`` pixels, spread evenly from edge to edge."""
    width, height = size
    xs, tile_w = _starts(width, tile, overlap)
    ys, tile_h = _starts(height, tile, overlap)
    return [(x, y, x + tile_w, y + tile_h) for y in ys for x in xs]


def _starts(length: int, tile: int, overlap: int) -> tuple[list[int], int]:
    if length <= tile:
        return [0], length
    count = math.ceil((length - overlap) / (tile - overlap))
    return [round(n * (length - tile) / (count - 1)) for n in range(count)], tile


def feather_window(width: int, height: int, ramp: int) -> np.ndarray:
    """Per-pixel weights of a tile, (height, width, 1): 1 inside, ramping down over ``ramp``
    pixels towards each edge (never 0), so overlapping tiles blend without seams."""

    def axis(length: int) -> np.ndarray:
        up = np.minimum(1.0, (np.arange(length, dtype=np.float32) + 1) / (ramp + 1))
        return np.minimum(up, up[::-1])

    window: np.ndarray = (axis(height)[:, None] * axis(width)[None, :])[..., None]
    return window


def extend_canvas(source: Image.Image, frame: Frame) -> tuple[Image.Image, Image.Image]:
    """The frame's canvas (source pasted, the rest its edge colours) and its mask (white = new)."""
    left, top, right, bottom = frame.box
    box_w, box_h = right - left, bottom - top
    canvas = Image.new("RGB", (box_w, box_h), _mean_colour(source))
    mask = Image.new("L", (box_w, box_h), 255)
    canvas.paste(source, (-left, -top))
    mask.paste(0, (-left, -top, -left + source.width, -top + source.height))
    if (box_w, box_h) != frame.size:
        canvas = canvas.resize(frame.size, Image.Resampling.LANCZOS)
        mask = mask.resize(frame.size, Image.Resampling.NEAREST)
    return canvas, mask


def keep_unmasked(source: Image.Image, drawn: Image.Image, mask: Image.Image) -> Image.Image:
    """The drawn picture at the source's size where ``mask`` is white, the source elsewhere."""
    drawn = drawn.resize(source.size, Image.Resampling.LANCZOS)
    hard = mask.point(lambda value: 255 if value >= 128 else 0)
    return Image.composite(drawn, source, hard)


def _mean_colour(image: Image.Image) -> tuple[int, int, int]:
    small = ImageOps.fit(image, (1, 1), Image.Resampling.BOX)
    red, green, blue = small.getpixel((0, 0))  # type: ignore[misc]
    return int(red), int(green), int(blue)
