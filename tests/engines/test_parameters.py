"""Midjourney's parameters in the procedural engine: each has its documented, measurable effect,
stays deterministic, and is kept in the recipe so follow-ups keep it."""

from __future__ import annotations

import colorsys
import json
from dataclasses import replace
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from selfjourney.engines.base import Frame, Picture, Spec, no_progress
from selfjourney.engines.procedural import ProceduralEngine, Recipe
from selfjourney.engines.procedural.palette import (
    COMPOSITIONS,
    allowed_compositions,
    avoid_colours,
    avoided,
    read_prompt,
)
from selfjourney.engines.procedural.scenes import PAINTERS
from tests.engines.measure import Pixels, diff, pixels

SIZE = 96


@pytest.fixture(scope="module")
def engine() -> ProceduralEngine:
    return ProceduralEngine()


def draw(
    engine: ProceduralEngine, prompt: str, count: int = 1, seed: int = 7, **params: Any
) -> list[Picture]:
    return engine.generate(Spec(prompt, seed, SIZE, SIZE, **params), count, no_progress)


def image(engine: ProceduralEngine, prompt: str, seed: int = 7, **params: Any) -> Image.Image:
    return draw(engine, prompt, 1, seed, **params)[0].image


def saturation(im: Image.Image) -> float:
    return float(np.asarray(im.convert("HSV"))[..., 1].mean())


def edge_share(im: Image.Image, step: int = 40) -> float:
    """Share of pixels whose brightness jumps by more than ``step`` to a neighbour."""
    grey = np.asarray(im.convert("L"), np.int32)
    jumps = np.zeros(grey.shape, bool)
    jumps[:, 1:] |= np.abs(np.diff(grey, axis=1)) > step
    jumps[1:] |= np.abs(np.diff(grey, axis=0)) > step
    return float(jumps.mean())


def contrast(im: Image.Image) -> float:
    return float(np.asarray(im.convert("L"), np.float32).std())


def edge_energy(im: Image.Image) -> float:
    """Mean brightness step between neighbouring pixels: texture and hard edges."""
    grey = np.asarray(im.convert("L"), np.float32)
    return float(np.abs(np.diff(grey, axis=1)).mean() + np.abs(np.diff(grey, axis=0)).mean())


def test_compositions_and_painters_agree() -> None:
    assert set(COMPOSITIONS) == set(PAINTERS)


# --chaos


def test_chaos_makes_the_four_pictures_differ_more(engine: ProceduralEngine) -> None:
    def spread(chaos: int) -> float:
        total = 0.0
        for prompt, seed in (("a quiet valley at dusk", 7), ("red city", 42), ("blue ocean", 3)):
            images = [p.image for p in draw(engine, prompt, 4, seed, chaos=chaos)]
            total += float(np.mean([diff(a, b) for a, b in combinations(images, 2)]))
        return total / 3

    calm, half, wild = spread(0), spread(50), spread(100)
    assert calm + 5 < half < wild
    assert wild > 1.8 * calm


def test_chaos_zero_keeps_one_composition(engine: ProceduralEngine) -> None:
    pictures = draw(engine, "snowy mountains", 4)
    assert {p.recipe["look"]["composition"] for p in pictures} == {"mountains"}
    wild = draw(engine, "snowy mountains", 8, chaos=100)
    assert len({p.recipe["look"]["composition"] for p in wild}) > 2


# --stylize


def test_stylize_raises_contrast_saturation_and_texture(engine: ProceduralEngine) -> None:
    for prompt in ("snowy mountains at sunset", "red city", "white winter forest"):
        plain, default, strong = (image(engine, prompt, stylize=s) for s in (0, 100, 1000))
        assert default.tobytes() == image(engine, prompt).tobytes()
        assert contrast(plain) < contrast(default)
        assert saturation(plain) < saturation(default) < saturation(strong)
        assert edge_energy(plain) < edge_energy(default) < edge_energy(strong)


# --weird


def test_weird_moves_further_from_the_plain_picture_as_it_rises(engine: ProceduralEngine) -> None:
    for prompt in ("a quiet valley at dusk", "cyberpunk city"):
        plain = image(engine, prompt)
        distances = [diff(image(engine, prompt, weird=w), plain) for w in (250, 1000, 3000)]
        assert 2 < distances[0] < distances[1] < distances[2]


def test_weird_warps_the_shapes_not_only_the_colours(engine: ProceduralEngine) -> None:
    def layout(weird: int) -> npt.NDArray[np.bool_]:
        grey = np.asarray(image(engine, "pink flower", weird=weird).convert("L"), np.int32)
        return np.abs(np.diff(grey, axis=1)) > 25  # where shapes' edges are

    assert (layout(0) != layout(3000)).mean() > 2 * (layout(0) != layout(0)).mean() + 0.02


# --tile


def seam_ratio(im: Image.Image) -> tuple[float, float]:
    """Wrap-around step (last column to first, last row to first) over the typical step."""
    p = pixels(im)
    typical_u = float(np.abs(np.diff(p, axis=1)).mean())
    typical_v = float(np.abs(np.diff(p, axis=0)).mean())
    seam_u = float(np.abs(p[:, -1] - p[:, 0]).mean())
    seam_v = float(np.abs(p[-1] - p[0]).mean())
    return seam_u / max(typical_u, 0.5), seam_v / max(typical_v, 0.5)


@pytest.mark.parametrize(
    "prompt", ["a quiet valley", "mountains", "ocean", "city", "forest", "space", "rose", "face"]
)
def test_tile_wraps_seamlessly(engine: ProceduralEngine, prompt: str) -> None:
    for picture in draw(engine, prompt, 2, tile=True):
        across, down = seam_ratio(picture.image)
        assert across < 3 and down < 3, (across, down)


def test_tile_wraps_with_every_other_parameter(engine: ProceduralEngine) -> None:
    tiled = image(engine, "a quiet valley", tile=True, weird=2000, stylize=800, niji=True)
    assert max(seam_ratio(tiled)) < 3
    plain = image(engine, "a quiet valley")
    assert seam_ratio(plain)[1] > 5  # without --tile, sky meets ground at the wrap


def test_tile_wraps_at_odd_sizes(engine: ProceduralEngine) -> None:
    for width, height in ((150, 50), (41, 97), (3, 2)):
        picture = engine.generate(Spec("forest", 3, width, height, tile=True), 1, no_progress)[0]
        assert picture.image.size == (width, height)
        if width > 8:
            assert max(seam_ratio(picture.image)) < 3


def test_pan_of_a_tile_repeats_the_tile(engine: ProceduralEngine) -> None:
    source = draw(engine, "a quiet valley", tile=True)[0]
    frame = Frame((0, 0, 2 * SIZE, SIZE), (2 * SIZE, SIZE))
    pictures = engine.extend(source, spec("a quiet valley"), frame, 2, no_progress)
    for picture in pictures:
        out = pixels(picture.image)
        assert (out[:, :SIZE] == pixels(source.image)).all()
        assert float(np.abs(out[:, SIZE] - out[:, SIZE - 1]).mean()) < 3 * typical(out) + 2
    assert diff(pixels(pictures[0].image)[:, SIZE:], pixels(pictures[1].image)[:, SIZE:]) > 1


def typical(p: Pixels) -> float:
    return float(np.abs(np.diff(p, axis=1)).mean())


# --no


def red_share(im: Image.Image) -> float:
    """Share of clearly red pixels: hue within 12 degrees of red, saturated and not dark."""
    hsv = np.asarray(im.convert("HSV"), np.int32)
    hue = hsv[..., 0] * 360 / 256
    red = (np.minimum(hue, 360 - hue) < 12) & (hsv[..., 1] > 90) & (hsv[..., 2] > 60)
    return float(red.mean())


def test_no_colour_takes_that_hue_out(engine: ProceduralEngine) -> None:
    for seed in (1, 2, 3):
        assert red_share(image(engine, "red sunset", seed)) > 0.2
        assert red_share(image(engine, "red sunset", seed, negative=("red",))) < 0.005
    ocean = image(engine, "blue ocean", negative=("blue", "teal"))
    hsv = np.asarray(ocean.convert("HSV"), np.int32)
    blue = (hsv[..., 0] * 360 // 256 >= 165) & (hsv[..., 0] * 360 // 256 < 255)
    assert float((blue & (hsv[..., 1] > 60)).mean()) < 0.005


def test_no_colour_holds_under_chaos_weird_and_niji(engine: ProceduralEngine) -> None:
    params = {"chaos": 100, "weird": 3000, "niji": True, "stylize": 1000}
    for picture in draw(engine, "crimson fire sunset", 4, negative=("crimson",), **params):
        assert red_share(picture.image) < 0.005


def test_avoid_colours_moves_banned_hues_and_keeps_the_rest() -> None:
    colours = np.array([[[230, 20, 20], [20, 20, 230], [128, 128, 128], [10, 10, 10]]], np.uint8)
    out = avoid_colours(colours, ("black", "red"))
    h, s, v = colorsys.rgb_to_hsv(*(out[0, 0] / 255))
    assert 14 / 360 < h < 346 / 360 and s > 0.5
    assert (out[0, 1] == colours[0, 1]).all() and (out[0, 2] == colours[0, 2]).all()
    assert out[0, 3].max() >= 72
    every = ("red", "orange", "gold", "green", "teal", "blue", "purple", "pink")
    grey = avoid_colours(colours, every)
    assert np.ptp(grey[0, 0]) == 0 and np.ptp(grey[0, 1]) == 0


@pytest.mark.parametrize(
    ("prompt", "negative", "composition"),
    [
        ("a city by the ocean", ("city",), "ocean"),
        ("snowy mountains", ("mountain",), "landscape"),
        ("a night sky", ("space",), "landscape"),
        ("a rose garden", ("flowers",), "landscape"),
        ("an old barn", ("landscape",), "mountains"),
        ("portrait of a queen in a forest", ("face", "trees"), "landscape"),
    ],
)
def test_no_subject_excludes_its_composition(
    engine: ProceduralEngine, prompt: str, negative: tuple[str, ...], composition: str
) -> None:
    assert read_prompt(prompt, negative).composition == composition
    picture = draw(engine, prompt, negative=negative)[0]
    assert picture.recipe["look"]["composition"] == composition


def test_no_subject_is_never_picked_by_chaos(engine: ProceduralEngine) -> None:
    banned = ("city", "portrait", "flower", "stars")
    pictures = draw(engine, "a city at night", 12, chaos=100, negative=banned)
    picked = {p.recipe["look"]["composition"] for p in pictures}
    assert picked.isdisjoint({"city", "portrait", "bloom", "space"})
    assert not any(p.recipe["look"]["night"] for p in pictures)
    assert allowed_compositions(COMPOSITIONS) == COMPOSITIONS


def test_no_words_drop_out_of_the_prompt() -> None:
    assert read_prompt("red sunset", ("red",)).palette == read_prompt("sunset").palette
    assert avoided(("Red", "cars", "navy blue", "black")) == ("black", "blue", "red")


# --niji


def test_niji_is_brighter_more_saturated_and_outlined(engine: ProceduralEngine) -> None:
    prompts = ("snowy mountains at sunset", "portrait of a queen", "pink flower", "a city at dusk")
    for prompt in prompts:
        plain, anime = image(engine, prompt), image(engine, prompt, niji=True)
        assert saturation(anime) > saturation(plain) + 10
        value = [float(np.asarray(im.convert("HSV"))[..., 2].mean()) for im in (plain, anime)]
        assert value[1] > value[0]  # brighter colours (HSV value), not paler ones
        outlined = 1.5 if "city" not in prompt else 1.05  # lit windows: edges everywhere already
        assert edge_share(anime) > outlined * edge_share(plain)


# determinism and follow-ups

PARAMETERS: list[dict[str, Any]] = [
    {"chaos": 60},
    {"stylize": 0},
    {"stylize": 1000},
    {"weird": 1500},
    {"tile": True},
    {"negative": ("red", "city")},
    {"niji": True},
    {"tile": True, "weird": 900, "niji": True, "stylize": 600, "chaos": 30},
]


@pytest.mark.parametrize("params", PARAMETERS)
def test_each_parameter_is_deterministic(params: dict[str, Any]) -> None:
    one = ProceduralEngine(threads=1).generate(
        Spec("red city", 5, 80, 60, **params), 4, no_progress
    )
    two = ProceduralEngine(threads=2).generate(
        Spec("red city", 5, 80, 60, **params), 4, no_progress
    )
    assert [p.image.tobytes() for p in one] == [p.image.tobytes() for p in two]
    assert [p.recipe for p in one] == [p.recipe for p in two]


def spec(prompt: str = "red city", seed: int = 9) -> Spec:
    return Spec(prompt, seed, SIZE, SIZE)  # a follow-up's spec: default parameters


@pytest.mark.parametrize("params", PARAMETERS)
def test_recipe_keeps_the_parameters_through_json(
    engine: ProceduralEngine, params: dict[str, Any]
) -> None:
    picture = draw(engine, "red city", **params)[0]
    stored = json.loads(json.dumps(picture.recipe))
    recipe = Recipe.from_json(stored)
    assert recipe is not None and recipe.to_json() == picture.recipe
    for key, value in params.items():
        expected = list(value) if isinstance(value, tuple) else value
        assert stored["params"][key] == expected


@pytest.mark.parametrize("params", PARAMETERS)
def test_vary_and_extend_keep_the_source_parameters(
    engine: ProceduralEngine, params: dict[str, Any]
) -> None:
    source = draw(engine, "red city", **params)[0]
    varied = engine.vary(source, spec(), 0.3, 1, no_progress)[0]
    frame = Frame((0, 0, SIZE + 32, SIZE), (SIZE + 32, SIZE))
    extended = engine.extend(source, spec(), frame, 1, no_progress)[0]
    for picture in (varied, extended):
        assert picture.recipe["params"] == source.recipe["params"]
        assert picture.recipe["look"] == source.recipe["look"]
    unrelated = image(engine, "red city", seed=99, **params)
    assert 0.5 < diff(varied.image, source.image) < diff(unrelated, source.image)
    if params.get("tile"):
        assert max(seam_ratio(varied.image)) < 3


def test_vary_keeps_a_niji_look(engine: ProceduralEngine) -> None:
    source = draw(engine, "snowy mountains", niji=True)[0]
    plain = draw(engine, "snowy mountains")[0]
    varied = engine.vary(source, spec(), 0.6, 1, no_progress)[0]
    assert saturation(varied.image) > saturation(plain.image) + 10


def test_pan_of_a_weird_picture_continues_across_the_seam(engine: ProceduralEngine) -> None:
    source = draw(engine, "a quiet valley at dusk", weird=3000)[0]
    frame = Frame((0, 0, SIZE + 48, SIZE), (SIZE + 48, SIZE))
    out = pixels(engine.extend(source, spec(), frame, 1, no_progress)[0].image)
    assert (out[:, :SIZE] == pixels(source.image)).all()
    steps = np.abs(np.diff(out, axis=1)).mean(axis=(0, 2))
    assert steps[SIZE - 1] < 3 * typical(pixels(source.image)) + 2


def test_inpaint_adds_its_no_words_and_keeps_the_rest(engine: ProceduralEngine) -> None:
    source = draw(engine, "red sunset", niji=True)[0]
    mask = np.zeros((SIZE, SIZE), bool)
    mask[20:80, 20:80] = True
    repaint = replace(spec("red sunset"), negative=("red",))
    out = engine.inpaint(source, repaint, Image.fromarray(mask), 1, no_progress)[0].image
    assert (pixels(out)[~mask] == pixels(source.image)[~mask]).all()
    inside = out.crop((30, 30, 70, 70))
    assert red_share(inside) < 0.02 < red_share(source.image.crop((30, 30, 70, 70)))


def test_an_older_recipe_still_renders_with_default_parameters(engine: ProceduralEngine) -> None:
    source = draw(engine, "a quiet valley at dusk")[0]
    old = {k: source.recipe[k] for k in ("engine", "prompt", "seed", "window", "drifts", "patches")}
    recipe, current = Recipe.from_json({**old, "version": 1}), Recipe.from_json(source.recipe)
    assert recipe is not None and current is not None
    assert recipe.look == current.look
    varied = engine.vary(Picture(source.image, {**old, "version": 1}), spec(), 0.3, 1, no_progress)
    assert varied[0].recipe["params"]["stylize"] == 100


def test_out_of_range_parameters_are_clamped(engine: ProceduralEngine) -> None:
    picture = draw(engine, "city", chaos=500, stylize=-3, weird=99999)[0]
    assert picture.recipe["params"] | {"negative": []} == {
        "chaos": 100,
        "stylize": 0,
        "weird": 3000,
        "tile": False,
        "niji": False,
        "negative": [],
    }
