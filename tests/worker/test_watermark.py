"""The visible watermark: drawn in the bottom-right corner only, readable, pure."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageChops

from selfjourney.worker.watermark import apply_watermark, watermark_box

Pixels = npt.NDArray[np.int32]


def pixels(image: Image.Image) -> Pixels:
    return np.asarray(image.convert("RGB"), dtype=np.int32)


def picture(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """Smooth random colours, light and dark areas both."""
    grid = np.random.default_rng(seed).integers(0, 256, (5, 5, 3), dtype=np.uint8)
    return Image.fromarray(grid).resize(size, Image.Resampling.BICUBIC)


@pytest.mark.parametrize(
    "size", [(1024, 1024), (512, 1536), (1536, 512), (640, 360), (64, 64), (24, 20)]
)
def test_only_the_corner_changes_and_the_text_shows(size: tuple[int, int]) -> None:
    image = picture(size)
    before = image.tobytes()
    marked = apply_watermark(image, "selfjourney")
    assert image.tobytes() == before, "the input must not change"
    assert marked.size == image.size and marked.mode == "RGB"
    box = watermark_box(size, "selfjourney")
    assert box is not None
    left, top, right, bottom = box
    assert left >= size[0] // 2 and top >= size[1] // 2, f"{box} is not in the corner of {size}"
    changed = ImageChops.difference(image, marked).getbbox()
    assert changed is not None
    assert changed[0] >= left and changed[1] >= top
    assert changed[2] <= right and changed[3] <= bottom
    area = np.abs(pixels(marked) - pixels(image))[top:bottom, left:right]
    strongly = 60 if min(size) >= 64 else 20  # 5 px text on a thumbnail is a smudge
    assert area.max() > strongly, "some text pixels must differ visibly"
    assert (area.max(axis=-1) > 20).mean() > 0.05


def test_reads_on_white_and_on_black() -> None:
    for colour in ((255, 255, 255), (0, 0, 0)):
        image = Image.new("RGB", (400, 300), colour)
        marked = apply_watermark(image, "selfjourney")
        box = watermark_box(image.size, "selfjourney")
        assert box is not None
        area = np.abs(pixels(marked) - pixels(image))[box[1] : box[3], box[0] : box[2]]
        assert area.max() > 60


def test_size_follows_the_image() -> None:
    small = watermark_box((256, 256), "selfjourney")
    large = watermark_box((2048, 2048), "selfjourney")
    assert small is not None and large is not None
    assert (large[3] - large[1]) > 4 * (small[3] - small[1])


@pytest.mark.parametrize("size", [(1024, 1024), (1536, 512), (120, 360)])
def test_long_text_is_scaled_and_clipped_into_the_corner(size: tuple[int, int]) -> None:
    text = "a very long watermark that says a lot about who made this image " * 3
    image = picture(size)
    marked = apply_watermark(image, text)
    box = watermark_box(size, text)
    assert box is not None
    assert box[0] >= size[0] // 2 and box[1] >= size[1] // 2
    changed = ImageChops.difference(image, marked).getbbox()
    assert changed is not None and changed[0] >= box[0] and changed[1] >= box[1]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_text_leaves_the_image_alone(text: str) -> None:
    image = picture((200, 100))
    assert apply_watermark(image, text).tobytes() == image.tobytes()
    assert watermark_box(image.size, text) is None


@pytest.mark.parametrize("size", [(1, 1), (4, 3), (9, 9), (3, 400)])
def test_tiny_images_come_back_whole(size: tuple[int, int]) -> None:
    image = picture(size)
    marked = apply_watermark(image, "selfjourney")
    assert marked.size == size
    box = watermark_box(size, "selfjourney")
    changed = ImageChops.difference(image, marked).getbbox()
    if box is None:
        assert changed is None
    else:
        assert changed is None or (changed[0] >= box[0] and changed[1] >= box[1])


def test_deterministic_and_keeps_the_mode() -> None:
    image = picture((300, 200))
    assert (
        apply_watermark(image, "©2025 me").tobytes() == apply_watermark(image, "©2025 me").tobytes()
    )
    rgba = image.convert("RGBA")
    assert apply_watermark(rgba, "me").mode == "RGBA"
    grey = image.convert("L")
    assert apply_watermark(grey, "me").mode == "L"
    assert apply_watermark(image.convert("P"), "me").mode == "RGB"
