"""The embedded default engine: offline abstract paintings from numpy noise, no model weights.

Each picture shows a window of an infinite seeded world (see ``fields``) painted as one of the
compositions in ``scenes``, so pan and zoom out render a wider window of the same world and
continue the picture seamlessly. Midjourney's parameters (``Spec``) change it as
docs/architecture.md "Engine parameters" lists; image references as ``references`` says. The
recipe kept with each picture is JSON::

    {"engine": "procedural", "version": 2, "prompt": "red city", "seed": 42,
     "window": [u0, v0, u1, v1], "drifts": [[seed, strength], ...],
     "patches": [[seed, u0, v0, u1, v1, ramp], ...],
     "look": {"composition": "city", "palette": [[r, g, b], ...], "night": false},
     "params": {"chaos": 0, "stylize": 100, "weird": 0, "tile": false, "niji": false,
                "negative": []},
     "period": null, "references": [{"mode": "style", "weight": 0.5, "digest": "...", ...}]}

``window`` is the world rectangle the pixels show (a square picture of any size is
[0, 0, 1, 1]); ``drifts`` are vary steps; ``patches`` are extend candidates' changes; ``look``
is what the prompt, --no, --chaos and style references resolved to; ``period`` is the world
rectangle that repeats (--tile). Vary and extend keep all of it, so a follow-up keeps the
parameters of its source whatever its own spec says. Version 1 recipes (no look, params or
references) still read, as the default parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

from selfjourney.engines.base import Frame, Picture, ProgressFn, Spec
from selfjourney.engines.procedural.fields import Patch, Sampler, Window
from selfjourney.engines.procedural.palette import (
    avoided,
)
from selfjourney.engines.procedural.recipe import (
    ENGINE_NAME,
    SALT_EXTEND,
    SALT_INPAINT,
    SALT_VARY,
    Params,
    Recipe,
    base_window,
    clean,
    mix_seed,
    render,
    resolve_look,
)
from selfjourney.engines.procedural.references import Prepared, prepare

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]


def _plan(spec: Spec, count: int) -> tuple[list[Recipe], Prepared]:
    """The recipes of a fresh grid, and its references made ready to paint."""
    params, size = Params.of(spec), (spec.width, spec.height)
    window = base_window(*size)
    refs = prepare(spec.references, window, size, avoided(params.negative))
    period = window if params.tile else None
    recipes = [
        Recipe(
            spec.prompt,
            seed,
            window,
            resolve_look(spec.prompt, params, seed, refs.shared),
            params,
            period=period,
            notes=refs.place(seed, window),
        )
        for seed in range(spec.seed, spec.seed + count)
    ]
    return recipes, refs


class ProceduralEngine:
    """Renders seeded abstract paintings that respond to the prompt's colour and subject words.

    Usage::

        engine = ProceduralEngine()
        pictures = engine.generate(Spec("red city", seed=1, width=512, height=512), 4, print)
    """

    name = ENGINE_NAME

    def __init__(self, threads: int = 2) -> None:
        self._threads = max(1, threads)

    def describe(self) -> str:
        return self.name

    def load(self) -> None:
        """Nothing to load: the pictures are computed."""

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        """Draw ``count`` pictures of neighbouring seeds: same prompt look, new compositions."""
        if spec.width < 1 or spec.height < 1:
            raise ValueError(f"image size must be positive, got {spec.width}x{spec.height}")
        recipes, refs = _plan(spec, count)
        size = (spec.width, spec.height)
        return self._run([_render_job(r, size, refs) for r in recipes], progress)

    def vary(
        self, source: Picture, spec: Spec, strength: float, count: int, progress: ProgressFn
    ) -> list[Picture]:
        """Re-draw the source's world with its noise partly re-seeded, keeping any edits."""
        strength = min(max(strength, 0.0), 1.0)
        recipe = Recipe.from_json(source.recipe)
        image = source.image.convert("RGB")
        salt = len(recipe.drifts) if recipe else 0
        seeds = [mix_seed(spec.seed, SALT_VARY, salt, j) for j in range(count)]
        if recipe is None:
            jobs = [_pixels_job(partial(_vary_pixels, image, strength, s)) for s in seeds]
            return self._run(jobs, progress)
        edits = np.asarray(image, np.int16) - np.asarray(render(recipe, image.size), np.int16)
        recipes = [replace(recipe, drifts=(*recipe.drifts, (s, strength))) for s in seeds]
        return self._run([_vary_job(r, edits) for r in recipes], progress)

    def extend(
        self, source: Picture, spec: Spec, frame: Frame, count: int, progress: ProgressFn
    ) -> list[Picture]:
        """Draw the frame: the source pasted where it falls, its world continued around it."""
        _check_frame(frame)
        recipe = Recipe.from_json(source.recipe)
        image = source.image.convert("RGB")
        salt = len(recipe.patches) if recipe else 0
        seeds = [mix_seed(spec.seed, SALT_EXTEND, salt, j) for j in range(count)]
        if recipe is None:
            jobs = [_pixels_job(partial(_extend_pixels, image, frame, s)) for s in seeds]
            return self._run(jobs, progress)
        u0, v0, u1, v1 = recipe.window
        ramp = 0.45 * max(u1 - u0, v1 - v0)
        window = frame_window(recipe.window, image.size, frame.box)
        recipes = [
            replace(recipe, window=window, patches=(*recipe.patches, Patch(s, recipe.window, ramp)))
            for s in seeds
        ]
        return self._run([_extend_job(r, image, frame) for r in recipes], progress)

    def inpaint(
        self, source: Picture, spec: Spec, mask: Image.Image, count: int, progress: ProgressFn
    ) -> list[Picture]:
        """Repaint the white part of the mask from a re-seeded world; keep the rest exactly."""
        if mask.size != source.image.size:
            raise ValueError(f"mask size {mask.size} differs from source size {source.image.size}")
        image = source.image.convert("RGB")
        hard = np.asarray(mask.convert("L")) >= 128
        recipe = Recipe.from_json(source.recipe)
        kept = source.recipe if recipe else {"engine": self.name, "source": "pixels"}
        recipe = _repaint_recipe(recipe, spec, image.size)
        seeds = [mix_seed(spec.seed, SALT_INPAINT, len(recipe.drifts), j) for j in range(count)]
        fills = [replace(recipe, drifts=(*recipe.drifts, (s, 1.0), (s + 1, 1.0))) for s in seeds]
        alpha = _feather(hard)
        return self._run([_inpaint_job(r, image, alpha, hard, kept) for r in fills], progress)

    def refine(self, source: Picture, spec: Spec, strength: float, progress: ProgressFn) -> Picture:
        """Seeded fine detail on the enlarged picture: sharper edges and grain, layout kept."""
        image = add_detail(source.image, spec.seed, strength)
        progress(1.0)
        return Picture(image, {"engine": self.name, "source": "pixels", "refined": strength})

    def _run(self, jobs: list[Callable[[], Picture]], progress: ProgressFn) -> list[Picture]:
        """Run the jobs on a few threads (numpy releases the GIL), reporting each one done."""
        pictures: list[Picture] = []
        with ThreadPoolExecutor(max_workers=self._threads) as pool:
            for picture in pool.map(lambda job: job(), jobs):
                pictures.append(picture)
                progress(len(pictures) / len(jobs))
        if not jobs:
            progress(1.0)
        return pictures


def add_detail(image: Image.Image, seed: int, strength: float = 0.3) -> Image.Image:
    """Sharper edges and fine seeded grain, stronger where there is structure.

    Deterministic in ``seed``; layout and colours stay. ``strength`` 0.3 is the tuned look.
    """
    amount = strength / 0.3
    sharp = image.convert("RGB").filter(
        ImageFilter.UnsharpMask(radius=2, percent=int(70 * amount), threshold=2)
    )
    pixels = np.asarray(sharp, np.float32)
    edges = np.asarray(sharp.convert("L").filter(ImageFilter.FIND_EDGES), np.float32) / 255.0
    rng = np.random.default_rng(seed)
    grain = rng.standard_normal(edges.shape, dtype=np.float32)
    grain_image = Image.fromarray(np.clip(grain * 40 + 128, 0, 255).astype(np.uint8), "L")
    fine = np.asarray(grain_image.filter(ImageFilter.GaussianBlur(0.7)), np.float32) - 128.0
    weight = 0.12 + np.minimum(edges * 4.0, 1.0) * 0.2
    pixels += (fine * weight * amount)[..., None]
    return Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), "RGB")


def frame_window(window: Window, size: tuple[int, int], box: tuple[int, int, int, int]) -> Window:
    """World window of a frame ``box`` given in the source picture's pixels."""
    u0, v0, u1, v1 = window
    du, dv = (u1 - u0) / size[0], (v1 - v0) / size[1]
    left, top, right, bottom = box
    return (u0 + left * du, v0 + top * dv, u0 + right * du, v0 + bottom * dv)


def _check_frame(frame: Frame) -> None:
    left, top, right, bottom = frame.box
    if right <= left or bottom <= top or min(frame.size) < 1:
        raise ValueError(f"empty frame: box {frame.box}, size {frame.size}")


def _pixels_job(make: Callable[[], Image.Image]) -> Callable[[], Picture]:
    return lambda: Picture(make(), {"engine": ProceduralEngine.name, "source": "pixels"})


def _render_job(recipe: Recipe, size: tuple[int, int], refs: Prepared) -> Callable[[], Picture]:
    def run() -> Picture:
        image = refs.paste(render(recipe, size), recipe.notes, recipe.window)
        return Picture(clean(image, recipe) if refs.subjects else image, recipe.to_json())

    return run


def _repaint_recipe(recipe: Recipe | None, spec: Spec, size: tuple[int, int]) -> Recipe:
    """What inpaint fills from: the source's recipe, re-read if the spec brings a new prompt or
    new --no words (its other parameters stay); a recipe from the spec for a foreign picture."""
    if recipe is None:
        params, window = Params.of(spec), base_window(*size)
        look = resolve_look(spec.prompt, params, spec.seed, ())
        return Recipe(
            spec.prompt, spec.seed, window, look, params, period=window if params.tile else None
        )
    prompt = spec.prompt or recipe.prompt
    negative = tuple(dict.fromkeys((*recipe.params.negative, *spec.negative)))
    if prompt == recipe.prompt and negative == recipe.params.negative:
        return recipe
    params = replace(recipe.params, negative=negative)
    look = resolve_look(prompt, params, recipe.seed, recipe.notes)
    return replace(recipe, prompt=prompt, look=look, params=params)


def _vary_job(recipe: Recipe, edits: npt.NDArray[np.int16]) -> Callable[[], Picture]:
    def run() -> Picture:
        fresh = np.asarray(render(recipe, (edits.shape[1], edits.shape[0])), np.int16)
        image = Image.fromarray((fresh + edits).clip(0, 255).astype(np.uint8))
        return Picture(clean(image, recipe) if edits.any() else image, recipe.to_json())

    return run


def _extend_job(recipe: Recipe, source: Image.Image, frame: Frame) -> Callable[[], Picture]:
    def run() -> Picture:
        canvas = render(recipe, frame.size)
        placed, corner = _place(source, frame)
        canvas.paste(placed, corner)
        return Picture(canvas, recipe.to_json())

    return run


def _inpaint_job(
    recipe: Recipe,
    source: Image.Image,
    alpha: F32,
    hard: npt.NDArray[np.bool_],
    kept: dict[str, Any],
) -> Callable[[], Picture]:
    def run() -> Picture:
        fresh = np.asarray(render(recipe, source.size), np.float32)
        old = np.asarray(source)
        mixed = (old + alpha[:, :, None] * (fresh - old)).round().clip(0, 255).astype(np.uint8)
        mixed = np.asarray(clean(Image.fromarray(mixed), recipe))
        out = np.where(hard[:, :, None], mixed, old)
        return Picture(Image.fromarray(out), dict(kept))

    return run


def _place(source: Image.Image, frame: Frame) -> tuple[Image.Image, tuple[int, int]]:
    """The source as it appears in the frame: as is at 1:1, else resampled; and its corner."""
    left, top, right, bottom = frame.box
    sx, sy = frame.size[0] / (right - left), frame.size[1] / (bottom - top)
    corner = (round(-left * sx), round(-top * sy))
    if sx == 1 and sy == 1:
        return source, corner
    size = (max(1, round(source.width * sx)), max(1, round(source.height * sy)))
    return source.resize(size, Image.Resampling.LANCZOS), corner


def _feather(hard: npt.NDArray[np.bool_]) -> F32:
    """Blend weight inside the mask, low at its edge and full deeper in, zero outside."""
    radius = max(1.0, min(hard.shape) / 64)
    mask = Image.fromarray(hard.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(radius))
    soft = np.asarray(mask, np.float32) / 255
    return np.where(hard, np.clip(2.5 * soft - 1.0, 0.15, 1.0), 0).astype(np.float32)


def _vary_pixels(image: Image.Image, strength: float, seed: int) -> Image.Image:
    """Warp and re-tint the pixels of a picture the engine cannot re-render."""
    width, height = image.size
    s = Sampler(base_window(width, height), image.size, seed)
    amp = strength * 0.08 * min(width, height)
    xs = np.arange(width)[None, :] + s.noise("warp_u", 2.5, 2.5, 3) * amp
    ys = np.arange(height)[:, None] + s.noise("warp_v", 2.5, 2.5, 3) * amp
    xi = np.clip(xs + 0.5, 0, width - 1).astype(np.intp)
    yi = np.clip(ys + 0.5, 0, height - 1).astype(np.intp)
    warped = np.asarray(image, np.float32)[yi, xi]
    tint = np.stack([s.noise(f"tint{c}", 1.5, 1.5, 2) for c in range(3)], axis=-1)
    out = warped * (1 + 0.6 * strength * tint)
    return Image.fromarray(out.round().clip(0, 255).astype(np.uint8))


def _extend_pixels(image: Image.Image, frame: Frame, seed: int) -> Image.Image:
    """Continue a picture the engine cannot re-render: mirrored, blurred, re-tinted outwards."""
    width, height = frame.size
    placed, (x, y) = _place(image, frame)
    x0, y0 = min(max(x, 0), width - 1), min(max(y, 0), height - 1)
    x1, y1 = max(min(x + placed.width, width), x0 + 1), max(min(y + placed.height, height), y0 + 1)
    core = np.asarray(placed.crop((x0 - x, y0 - y, x1 - x, y1 - y)).convert("RGB"))
    pad = ((y0, height - y1), (x0, width - x1), (0, 0))
    mirrored = np.pad(core, pad, mode="symmetric")
    radius = 0.03 * max(width, height)
    blurred = np.asarray(Image.fromarray(mirrored).filter(ImageFilter.GaussianBlur(radius)))
    du = np.maximum(np.maximum(x0 - np.arange(width), np.arange(width) - x1 + 1), 0)[None, :]
    dv = np.maximum(np.maximum(y0 - np.arange(height), np.arange(height) - y1 + 1), 0)[:, None]
    ramp = 0.3 * max(width, height)
    w = np.clip(np.sqrt(du * du + dv * dv) / ramp, 0, 1).astype(np.float32)[:, :, None]
    s = Sampler(base_window(width, height), frame.size, seed)
    tint = np.stack([s.noise(f"tint{c}", 2.0, 2.0, 3) for c in range(3)], axis=-1)
    out = mirrored + w * (blurred - mirrored.astype(np.float32)) + 40 * w * tint
    result = Image.fromarray(out.round().clip(0, 255).astype(np.uint8))
    result.paste(placed, (x, y))
    return result
