"""The procedural engine: determinism, prompt response, and seamless follow-ups."""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from selfjourney.engines.base import Frame, Picture, Spec, no_progress
from selfjourney.engines.procedural import ProceduralEngine, Recipe
from selfjourney.engines.procedural.palette import read_prompt
from tests.engines.measure import diff, pixels

SIZE = 128


@pytest.fixture(scope="module")
def engine() -> ProceduralEngine:
    return ProceduralEngine()


@pytest.fixture(scope="module")
def source(engine: ProceduralEngine) -> Picture:
    return engine.generate(Spec("a quiet valley at dusk", 7, SIZE, SIZE), 1, no_progress)[0]


def spec(prompt: str = "a quiet valley at dusk", seed: int = 7) -> Spec:
    return Spec(prompt, seed, SIZE, SIZE)


def test_generate_returns_rgb_pictures_of_the_spec_size(engine: ProceduralEngine) -> None:
    pictures = engine.generate(Spec("city", 1, 160, 96), 4, no_progress)
    assert len(pictures) == 4
    for picture in pictures:
        assert picture.image.mode == "RGB"
        assert picture.image.size == (160, 96)
        assert json.loads(json.dumps(picture.recipe)) == picture.recipe


def test_generate_is_deterministic_byte_for_byte() -> None:
    one = ProceduralEngine(threads=1).generate(spec("red fox in snow"), 4, no_progress)
    two = ProceduralEngine(threads=2).generate(spec("red fox in snow"), 4, no_progress)
    assert [p.image.tobytes() for p in one] == [p.image.tobytes() for p in two]
    assert [p.recipe for p in one] == [p.recipe for p in two]


@pytest.mark.parametrize(
    "prompt", ["a quiet valley", "mountains", "ocean", "city", "forest", "space", "rose", "face"]
)
def test_generate_gives_visibly_different_images(engine: ProceduralEngine, prompt: str) -> None:
    images = [p.image for p in engine.generate(spec(prompt), 4, no_progress)]
    for a, b in combinations(images, 2):
        assert diff(a, b) > 4


def test_colour_words_set_the_palette(engine: ProceduralEngine) -> None:
    def warmth(prompt: str) -> float:
        images = [pixels(p.image) for p in engine.generate(spec(prompt), 4, no_progress)]
        return float(np.mean([(im[..., 0] - im[..., 2]).mean() for im in images]))

    assert warmth("red") > warmth("blue ocean") + 40


def test_unknown_words_get_a_stable_palette_of_their_own(engine: ProceduralEngine) -> None:
    first = engine.generate(spec("zorblax quintessence"), 1, no_progress)[0].image
    again = engine.generate(spec("zorblax quintessence"), 1, no_progress)[0].image
    other = engine.generate(spec("wibble plonk"), 1, no_progress)[0].image
    assert first.tobytes() == again.tobytes()
    assert diff(first, other) > 4


@pytest.mark.parametrize(
    ("prompt", "composition"),
    [
        ("a neon city skyline", "city"),
        ("snowy Mountain range", "mountains"),
        ("the sea at noon", "ocean"),
        ("a night sky", "space"),
        ("portrait of a knight", "portrait"),
        ("a flower in a vase", "bloom"),
        ("pine forest", "forest"),
        ("an old barn", "landscape"),
    ],
)
def test_subject_words_pick_the_composition(prompt: str, composition: str) -> None:
    assert read_prompt(prompt).composition == composition


def test_recipe_survives_json(source: Picture) -> None:
    recipe = Recipe.from_json(json.loads(json.dumps(source.recipe)))
    assert recipe is not None
    assert recipe.to_json() == source.recipe
    assert Recipe.from_json({}) is None
    assert Recipe.from_json({"engine": "procedural", "version": 1, "window": "x"}) is None


def test_vary_is_related_but_different(engine: ProceduralEngine, source: Picture) -> None:
    unrelated = engine.generate(spec(seed=99), 1, no_progress)[0].image
    subtle = engine.vary(source, spec(), 0.2, 2, no_progress)
    strong = engine.vary(source, spec(), 0.9, 2, no_progress)
    for picture in [*subtle, *strong]:
        assert picture.image.size == source.image.size
        assert 1 < diff(picture.image, source.image) < diff(unrelated, source.image)
    assert diff(subtle[0].image, source.image) < diff(strong[0].image, source.image)
    assert diff(strong[0].image, strong[1].image) > 1


def test_vary_is_deterministic(engine: ProceduralEngine, source: Picture) -> None:
    one = engine.vary(source, spec(), 0.5, 2, no_progress)
    two = engine.vary(source, spec(), 0.5, 2, no_progress)
    assert [p.image.tobytes() for p in one] == [p.image.tobytes() for p in two]


def test_extend_and_inpaint_are_deterministic(engine: ProceduralEngine, source: Picture) -> None:
    frame = Frame((-32, -32, SIZE + 32, SIZE + 32), (SIZE, SIZE))
    mask = square_mask()[0]
    for call in (
        lambda: engine.extend(source, spec(), frame, 2, no_progress),
        lambda: engine.inpaint(source, spec(), mask, 2, no_progress),
    ):
        assert [p.image.tobytes() for p in call()] == [p.image.tobytes() for p in call()]


def test_generate_rejects_an_empty_size(engine: ProceduralEngine) -> None:
    with pytest.raises(ValueError, match="positive"):
        engine.generate(Spec("city", 1, 0, 64), 1, no_progress)


def test_vary_of_a_vary_builds_on_it(engine: ProceduralEngine, source: Picture) -> None:
    first = engine.vary(source, spec(), 0.5, 1, no_progress)[0]
    second = engine.vary(first, spec(), 0.5, 1, no_progress)[0]
    assert len(second.recipe["drifts"]) == 2
    assert diff(second.image, first.image) > 1


# (frame box, where the source sits in the output, the new area as (rows, cols) slices)
PANS = {
    "right": ((0, 0, SIZE + 64, SIZE), (0, 0), (slice(None), slice(SIZE, None))),
    "left": ((-64, 0, SIZE, SIZE), (64, 0), (slice(None), slice(0, 64))),
    "down": ((0, 0, SIZE, SIZE + 64), (0, 0), (slice(SIZE, None), slice(None))),
    "up": ((0, -64, SIZE, SIZE), (0, 64), (slice(0, 64), slice(None))),
}


@pytest.mark.parametrize("direction", PANS)
def test_pan_keeps_the_source_and_varies_only_the_new_area(
    engine: ProceduralEngine, source: Picture, direction: str
) -> None:
    box, (x, y), new = PANS[direction]
    size = (box[2] - box[0], box[3] - box[1])
    pictures = engine.extend(source, spec(), Frame(box, size), 3, no_progress)
    outs = [pixels(p.image) for p in pictures]
    for out in outs:
        assert out.shape == (size[1], size[0], 3)
        assert (out[y : y + SIZE, x : x + SIZE] == pixels(source.image)).all()
    for a, b in combinations(outs, 2):
        assert diff(a[new], b[new]) > 1


@pytest.mark.parametrize("direction", PANS)
def test_pan_continues_the_picture_across_the_seam(
    engine: ProceduralEngine, source: Picture, direction: str
) -> None:
    box, (x, y), _ = PANS[direction]
    size = (box[2] - box[0], box[3] - box[1])
    out = pixels(engine.extend(source, spec(), Frame(box, size), 1, no_progress)[0].image)
    axis = 1 if direction in ("left", "right") else 0
    steps = np.abs(np.diff(out, axis=axis)).mean(axis=(1 - axis, 2))
    seam = {"right": SIZE - 1, "left": x - 1, "down": SIZE - 1, "up": y - 1}[direction]
    typical = float(np.abs(np.diff(pixels(source.image), axis=axis)).mean())
    assert steps[seam] < 3 * typical + 2


def test_pan_of_a_pan_keeps_everything(engine: ProceduralEngine, source: Picture) -> None:
    first = engine.extend(source, spec(), Frame((0, 0, 192, SIZE), (192, SIZE)), 1, no_progress)[0]
    second = engine.extend(first, spec(), Frame((0, 0, 256, SIZE), (256, SIZE)), 2, no_progress)
    for picture in second:
        assert (pixels(picture.image)[:, :192] == pixels(first.image)).all()
    assert diff(pixels(second[0].image)[:, 192:], pixels(second[1].image)[:, 192:]) > 1


def test_zoom_out_puts_the_downscaled_source_in_the_middle(
    engine: ProceduralEngine, source: Picture
) -> None:
    frame = Frame((-64, -64, SIZE + 64, SIZE + 64), (SIZE, SIZE))
    pictures = engine.extend(source, spec(), frame, 2, no_progress)
    small = pixels(source.image.resize((64, 64), Image.Resampling.LANCZOS))
    for picture in pictures:
        assert picture.image.size == (SIZE, SIZE)
        assert diff(pixels(picture.image)[32:96, 32:96], small) < 1.5
    ring = np.ones((SIZE, SIZE), bool)
    ring[32:96, 32:96] = False
    assert diff(pixels(pictures[0].image)[ring], pixels(pictures[1].image)[ring]) > 1


def test_zoom_out_of_a_zoom_out_covers_the_wider_world(
    engine: ProceduralEngine, source: Picture
) -> None:
    frame = Frame((-64, -64, SIZE + 64, SIZE + 64), (SIZE, SIZE))
    once = engine.extend(source, spec(), frame, 1, no_progress)[0]
    twice = engine.extend(once, spec(), frame, 1, no_progress)[0]
    u0, v0, u1, v1 = twice.recipe["window"]
    assert (u0, v0, u1, v1) == pytest.approx((-1.5, -1.5, 2.5, 2.5))
    small = pixels(once.image.resize((64, 64), Image.Resampling.LANCZOS))
    assert diff(pixels(twice.image)[32:96, 32:96], small) < 1.5


def test_extend_rejects_an_empty_frame(engine: ProceduralEngine, source: Picture) -> None:
    with pytest.raises(ValueError, match="empty frame"):
        engine.extend(source, spec(), Frame((10, 0, 10, SIZE), (0, SIZE)), 1, no_progress)


def square_mask(size: tuple[int, int] = (SIZE, SIZE)) -> tuple[Image.Image, npt.NDArray[np.bool_]]:
    inside = np.zeros((size[1], size[0]), bool)
    inside[32:96, 40:100] = True
    return Image.fromarray(inside.astype(np.uint8) * 255, "L"), inside


def test_inpaint_keeps_pixels_outside_the_mask_exactly(
    engine: ProceduralEngine, source: Picture
) -> None:
    mask, inside = square_mask()
    pictures = engine.inpaint(source, spec(), mask, 2, no_progress)
    original = pixels(source.image)
    for picture in pictures:
        out = pixels(picture.image)
        assert (out[~inside] == original[~inside]).all()
        assert diff(out[inside], original[inside]) > 3
    assert diff(pixels(pictures[0].image)[inside], pixels(pictures[1].image)[inside]) > 1


def test_inpaint_uses_the_new_prompt_palette(engine: ProceduralEngine) -> None:
    blue = engine.generate(spec("blue ocean"), 1, no_progress)[0]
    mask, inside = square_mask()
    red = engine.inpaint(blue, spec("red ocean"), mask, 1, no_progress)[0]
    before, after = pixels(blue.image)[inside], pixels(red.image)[inside]
    assert (after[:, 0] - after[:, 2]).mean() > (before[:, 0] - before[:, 2]).mean() + 20


def test_inpaint_rejects_a_mask_of_another_size(engine: ProceduralEngine, source: Picture) -> None:
    mask, _ = square_mask((64, 64))
    with pytest.raises(ValueError, match="mask size"):
        engine.inpaint(source, spec(), mask, 1, no_progress)


def test_every_call_reports_progress_up_to_one(engine: ProceduralEngine, source: Picture) -> None:
    calls = [
        lambda report: engine.generate(spec(), 4, report),
        lambda report: engine.vary(source, spec(), 0.5, 3, report),
        lambda report: engine.extend(
            source, spec(), Frame((0, 0, 192, SIZE), (192, SIZE)), 2, report
        ),
        lambda report: engine.inpaint(source, spec(), square_mask()[0], 2, report),
    ]
    for call in calls:
        seen: list[float] = []
        call(seen.append)
        assert seen and seen == sorted(seen) and seen[-1] == 1.0


@pytest.fixture(scope="module")
def foreign() -> Picture:
    """A picture from some other engine: smooth colours, no recipe this engine reads."""
    grid = np.random.default_rng(3).integers(0, 255, (4, 4, 3), dtype=np.uint8)
    image = Image.fromarray(grid).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
    return Picture(image, {})


def test_vary_without_a_recipe_works_from_the_pixels(
    engine: ProceduralEngine, foreign: Picture
) -> None:
    unrelated = engine.generate(spec(), 1, no_progress)[0].image
    pictures = engine.vary(foreign, spec(), 0.7, 2, no_progress)
    for picture in pictures:
        assert picture.image.size == foreign.image.size
        assert 1 < diff(picture.image, foreign.image) < diff(unrelated, foreign.image)
    assert diff(pictures[0].image, pictures[1].image) > 0.5


def test_extend_without_a_recipe_works_from_the_pixels(
    engine: ProceduralEngine, foreign: Picture
) -> None:
    box, (x, y), new = PANS["left"]
    pictures = engine.extend(foreign, spec(), Frame(box, (192, SIZE)), 2, no_progress)
    for picture in pictures:
        assert (pixels(picture.image)[:, x:] == pixels(foreign.image)).all()
    assert diff(pixels(pictures[0].image)[new], pixels(pictures[1].image)[new]) > 0.5
    zoomed = engine.extend(
        foreign, spec(), Frame((-64, -64, 192, 192), (SIZE, SIZE)), 1, no_progress
    )
    small = pixels(foreign.image.resize((64, 64), Image.Resampling.LANCZOS))
    assert diff(pixels(zoomed[0].image)[32:96, 32:96], small) < 1.5


def test_inpaint_without_a_recipe_keeps_the_rest(
    engine: ProceduralEngine, foreign: Picture
) -> None:
    mask, inside = square_mask()
    out = pixels(engine.inpaint(foreign, spec(), mask, 1, no_progress)[0].image)
    assert (out[~inside] == pixels(foreign.image)[~inside]).all()
    assert diff(out[inside], pixels(foreign.image)[inside]) > 3
