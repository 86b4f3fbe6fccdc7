"""Reference images in the procedural engine: "image" keeps the reference's layout, "style" its
colours, "omni" puts its subject in the picture; the recipe keeps a note, not the pixels."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageDraw

from selfjourney.engines.base import Frame, Picture, Reference, Spec, no_progress
from selfjourney.engines.procedural import ProceduralEngine, Recipe, base_window, render
from tests.engines.measure import diff, pixels

SIZE = 96
PROMPT = "snowy mountains at sunset"


@pytest.fixture(scope="module")
def engine() -> ProceduralEngine:
    return ProceduralEngine()


@pytest.fixture(scope="module")
def layout() -> Image.Image:
    """A bold layout, of another shape than the output: a dark disc, a red block, green ground."""
    image = Image.new("RGB", (300, 200), (235, 225, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 30, 165, 155), fill=(30, 40, 90))
    draw.rectangle((190, 100, 290, 195), fill=(160, 30, 30))
    draw.polygon([(0, 200), (150, 165), (300, 200)], fill=(40, 90, 40))
    return image


@pytest.fixture(scope="module")
def greens() -> Image.Image:
    """Greens and yellows, dark on the left and light on the right (a layout no scene has)."""
    x = np.linspace(0, 1, 120)[None, :]
    y = np.linspace(0, 1, 120)[:, None]
    rgb = np.stack([40 + 160 * x + 0 * y, 90 + 150 * x + 10 * y, 30 + 40 * y + 0 * x], axis=-1)
    return Image.fromarray(rgb.round().astype(np.uint8))


@pytest.fixture(scope="module")
def subject() -> Image.Image:
    """A blue and orange checked square on a white background."""
    image = Image.new("RGB", (150, 150), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for i in range(6):
        for j in range(6):
            colour = (20, 60, 200) if (i + j) % 2 else (250, 160, 0)
            draw.rectangle((15 + 20 * i, 15 + 20 * j, 34 + 20 * i, 34 + 20 * j), fill=colour)
    return image


def draw(
    engine: ProceduralEngine, *references: Reference, count: int = 1, **params: Any
) -> list[Picture]:
    spec = Spec(PROMPT, 7, SIZE, SIZE, references=references, **params)
    return engine.generate(spec, count, no_progress)


def layout_match(image: Image.Image, reference: Image.Image) -> float:
    """Correlation of the two pictures' brightness at 12x12, the reference cropped to fit."""
    ref = reference.convert("L")
    side = min(ref.size)
    ref = ref.crop(((ref.width - side) // 2, (ref.height - side) // 2, *(
        (ref.width + side) // 2, (ref.height + side) // 2)))  # fmt: skip
    a = np.asarray(image.convert("L").resize((12, 12), Image.Resampling.BOX), np.float64)
    b = np.asarray(ref.resize((12, 12), Image.Resampling.BOX), np.float64)
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_image_reference_guides_the_layout_by_its_weight(
    engine: ProceduralEngine, layout: Image.Image
) -> None:
    for seed in (1, 2, 3):
        spec = Spec(PROMPT, seed, SIZE, SIZE)
        alone = engine.generate(spec, 1, no_progress)[0].image
        light, strong = (
            engine.generate(
                Spec(PROMPT, seed, SIZE, SIZE, references=(Reference(layout, "image", w),)),
                1,
                no_progress,
            )[0].image
            for w in (0.3, 1.0)
        )
        plain = layout_match(alone, layout)
        assert plain < 0.5
        assert plain + 0.15 < layout_match(light, layout) < layout_match(strong, layout)
        assert layout_match(strong, layout) > 0.85


def test_image_reference_follows_the_colours_too(
    engine: ProceduralEngine, layout: Image.Image
) -> None:
    out = pixels(draw(engine, Reference(layout, "image", 1.0))[0].image)
    block = out[60:90, 70:94].reshape(-1, 3).mean(axis=0)  # under the red block
    disc = out[25:60, 15:45].reshape(-1, 3).mean(axis=0)  # under the dark blue disc
    assert block[0] > block[2] + 30
    assert disc.sum() < block.sum()


def test_weight_zero_changes_nothing(engine: ProceduralEngine, layout: Image.Image) -> None:
    alone = draw(engine)[0].image
    for mode in ("image", "style"):
        assert draw(engine, Reference(layout, mode, 0.0))[0].image.tobytes() == alone.tobytes()


def histogram(image: Image.Image) -> npt.NDArray[np.float64]:
    p = pixels(image).reshape(-1, 3) // 64
    counts = np.bincount(p[:, 0] * 16 + p[:, 1] * 4 + p[:, 2], minlength=64)
    share: npt.NDArray[np.float64] = counts / counts.sum()
    return share


def overlap(a: Image.Image, b: Image.Image) -> float:
    """Histogram intersection of 4x4x4 colour bins: 1 for the same colours, 0 for none shared."""
    return float(np.minimum(histogram(a), histogram(b)).sum())


def test_style_reference_brings_its_colours_not_its_layout(
    engine: ProceduralEngine, greens: Image.Image
) -> None:
    alone = draw(engine, count=2)
    styled = draw(engine, Reference(greens, "style", 1.0), count=2)
    for plain, picture in zip(alone, styled, strict=True):
        assert overlap(picture.image, greens) > overlap(plain.image, greens) + 0.3
        assert abs(layout_match(picture.image, greens)) < 0.5
        composition = picture.recipe["look"]["composition"]
        assert composition == plain.recipe["look"]["composition"]
    half = draw(engine, Reference(greens, "style", 0.3))[0].image
    assert overlap(alone[0].image, greens) < overlap(half, greens)


def omni_box(picture: Picture, index: int = 0) -> tuple[int, int, int, int]:
    """The pixel box where the recipe says omni subject ``index`` was placed."""
    notes = [n for n in picture.recipe["references"] if n["mode"] == "omni"]
    u0, v0, u1, v1 = notes[index]["rect"]
    w0, h0, w1, h1 = picture.recipe["window"]
    width, height = picture.image.size
    x = [round((u - w0) / (w1 - w0) * width) for u in (u0, u1)]
    y = [round((v - h0) / (h1 - h0) * height) for v in (v0, v1)]
    return x[0], y[0], x[1], y[1]


def test_omni_reference_puts_the_subject_in_the_picture(
    engine: ProceduralEngine, subject: Image.Image
) -> None:
    alone = draw(engine, count=4)
    placed = draw(engine, Reference(subject, "omni", 0.6), count=4)
    boxes = set()
    for plain, picture in zip(alone, placed, strict=True):
        left, top, right, bottom = box = omni_box(picture)
        boxes.add(box)
        assert 0 <= left < right <= SIZE and 0 <= top < bottom <= SIZE
        assert right - left > SIZE * 0.4
        w, h = right - left, bottom - top
        expected = pixels(subject.resize((w, h), Image.Resampling.LANCZOS))
        core = (slice(top + h // 5, bottom - h // 5), slice(left + w // 5, right - w // 5))
        inner = (slice(h // 5, h - h // 5), slice(w // 5, w - w // 5))
        assert diff(pixels(picture.image)[core], expected[inner]) < 12
        assert diff(pixels(plain.image)[core], expected[inner]) > 40
        outside = np.ones((SIZE, SIZE), bool)
        outside[top:bottom, left:right] = False
        assert (pixels(picture.image)[outside] == pixels(plain.image)[outside]).all()
    assert len(boxes) > 1  # the seed picks the place


def test_omni_weight_sets_the_subject_size(engine: ProceduralEngine, subject: Image.Image) -> None:
    small, large = (draw(engine, Reference(subject, "omni", w))[0] for w in (0.0, 1.0))
    assert omni_box(small)[2] - omni_box(small)[0] < omni_box(large)[2] - omni_box(large)[0]


def test_several_references_combine(
    engine: ProceduralEngine, layout: Image.Image, greens: Image.Image, subject: Image.Image
) -> None:
    references = (
        Reference(layout, "image", 0.8),
        Reference(greens, "style", 0.8),
        Reference(subject, "omni", 0.4),
        Reference(subject, "omni", 0.4),
    )
    one = draw(engine, *references, count=2)
    two = ProceduralEngine(threads=1).generate(
        Spec(PROMPT, 7, SIZE, SIZE, references=references), 2, no_progress
    )
    assert [p.image.tobytes() for p in one] == [p.image.tobytes() for p in two]
    picture = one[0]
    assert [n["mode"] for n in picture.recipe["references"]] == ["image", "style", "omni", "omni"]
    assert omni_box(picture, 0) != omni_box(picture, 1)
    assert layout_match(picture.image, layout) > 0.5
    assert overlap(picture.image, greens) > overlap(draw(engine)[0].image, greens)


def test_the_recipe_keeps_a_small_note_not_the_reference(
    engine: ProceduralEngine, layout: Image.Image, greens: Image.Image
) -> None:
    picture = draw(engine, Reference(layout, "image", 0.7), Reference(greens, "style", 0.5))[0]
    stored = json.dumps(picture.recipe)
    assert len(stored) < 4000
    image_note, style_note = picture.recipe["references"]
    assert len(image_note["digest"]) == 16 and image_note["digest"] != style_note["digest"]
    assert image_note["weight"] == 0.7 and style_note["weight"] == 0.5
    recipe = Recipe.from_json(json.loads(stored))
    assert recipe is not None and recipe.to_json() == picture.recipe
    # The note alone redraws the guided picture: no reference needed.
    assert render(recipe, (SIZE, SIZE)).tobytes() == picture.image.tobytes()


def test_follow_ups_of_a_guided_picture_need_no_reference(
    engine: ProceduralEngine, layout: Image.Image, subject: Image.Image
) -> None:
    picture = draw(engine, Reference(layout, "image", 0.8), Reference(subject, "omni", 0.5))[0]
    spec = Spec(PROMPT, 9, SIZE, SIZE)
    varied = engine.vary(picture, spec, 0.6, 2, no_progress)
    for out in varied:
        assert out.recipe["references"] == picture.recipe["references"]
        assert 1 < diff(out.image, picture.image) < 25
        assert layout_match(out.image, layout) > 0.6
    left, top, right, bottom = omni_box(picture)
    w, h = right - left, bottom - top
    core = (slice(top + h // 4, bottom - h // 4), slice(left + w // 4, right - w // 4))
    assert diff(pixels(varied[0].image)[core], pixels(picture.image)[core]) < 12  # carried
    frame = Frame((0, 0, SIZE + 48, SIZE), (SIZE + 48, SIZE))
    extended = pixels(engine.extend(picture, spec, frame, 1, no_progress)[0].image)
    assert (extended[:, :SIZE] == pixels(picture.image)).all()
    steps = np.abs(np.diff(extended, axis=1)).mean(axis=(0, 2))
    assert steps[SIZE - 1] < 3 * float(np.abs(np.diff(extended[:, :SIZE], axis=1)).mean()) + 2


def test_tile_with_an_image_reference_still_wraps(
    engine: ProceduralEngine, layout: Image.Image
) -> None:
    picture = draw(engine, Reference(layout, "image", 0.8), tile=True)[0]
    p = pixels(picture.image)
    typical = float(np.abs(np.diff(p, axis=1)).mean())
    assert float(np.abs(p[:, -1] - p[:, 0]).mean()) < 3 * typical + 1
    assert layout_match(picture.image, layout) > 0.5


def test_no_colours_apply_to_references(engine: ProceduralEngine, layout: Image.Image) -> None:
    picture = draw(engine, Reference(layout, "image", 1.0), negative=("red",))[0]
    hsv = np.asarray(picture.image.convert("HSV"), np.int32)
    hue = hsv[..., 0] * 360 / 256
    red = (np.minimum(hue, 360 - hue) < 12) & (hsv[..., 1] > 90) & (hsv[..., 2] > 60)
    assert float(red.mean()) < 0.01


def test_an_unknown_mode_is_refused(engine: ProceduralEngine, layout: Image.Image) -> None:
    with pytest.raises(ValueError, match="reference mode"):
        draw(engine, Reference(layout, "sketch", 0.5))


def test_a_malformed_note_makes_the_recipe_unreadable(
    engine: ProceduralEngine, layout: Image.Image
) -> None:
    picture = draw(engine, Reference(layout, "image", 0.5))[0]
    broken = json.loads(json.dumps(picture.recipe))
    broken["references"][0]["cells"] = broken["references"][0]["cells"][:-8]
    assert Recipe.from_json(broken) is None
    assert base_window(SIZE, SIZE) == tuple(picture.recipe["window"])


def test_omni_uses_the_subject_transparency(engine: ProceduralEngine) -> None:
    sticker = Image.new("RGBA", (80, 80), (0, 0, 0, 0))
    ImageDraw.Draw(sticker).ellipse((10, 10, 70, 70), fill=(250, 250, 40, 255))
    picture = draw(engine, Reference(sticker, "omni", 1.0))[0]
    plain = draw(engine)[0]
    left, top, right, bottom = omni_box(picture)
    w, h = right - left, bottom - top
    out, before = pixels(picture.image), pixels(plain.image)
    centre = out[top + h // 2 - 2 : top + h // 2 + 2, left + w // 2 - 2 : left + w // 2 + 2]
    assert np.abs(centre - np.array([250, 250, 40])).max() < 12
    corner = (slice(top, top + h // 10), slice(left, left + w // 10))  # transparent there
    assert diff(out[corner], before[corner]) < 2
