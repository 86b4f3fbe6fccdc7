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

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

from selfjourney.engines.base import Frame, Picture, ProgressFn, Spec
from selfjourney.engines.fields import Dice, Patch, Sampler, Window, key_id, mix64, unit
from selfjourney.engines.palette import (
    Look,
    Palette,
    allowed_compositions,
    avoid_colours,
    avoided,
    niji_palette,
    read_prompt,
    shift_palette,
    stylize_palette,
    to_image,
    weird_palette,
)
from selfjourney.engines.references import Guide, Note, Prepared, prepare, styled
from selfjourney.engines.scenes import PAINTERS, World, lengths, outline, stylise

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]

_VERSION = 2
_SALT_VARY, _SALT_EXTEND, _SALT_INPAINT = 0x5641, 0x4558, 0x494E


def _seed(*parts: int) -> int:
    """A derived seed small enough (53 bits) to survive any JSON parser."""
    return mix64(*parts) >> 11


def base_window(width: int, height: int) -> Window:
    """World window of a fresh picture: the longer side spans 0..1, centred on (0.5, 0.5)."""
    half_u, half_v = width / max(width, height) / 2, height / max(width, height) / 2
    return (0.5 - half_u, 0.5 - half_v, 0.5 + half_u, 0.5 + half_v)


@dataclass(frozen=True)
class Params:
    """The Midjourney parameters a picture is drawn with (see ``Spec``), clamped to range."""

    chaos: int = 0
    stylize: int = 100
    weird: int = 0
    tile: bool = False
    niji: bool = False
    negative: tuple[str, ...] = ()

    @classmethod
    def of(cls, spec: Spec) -> Params:
        """The spec's parameters, each clamped to Midjourney's range."""
        return cls(
            chaos=min(max(int(spec.chaos), 0), 100),
            stylize=min(max(int(spec.stylize), 0), 1000),
            weird=min(max(int(spec.weird), 0), 3000),
            tile=bool(spec.tile),
            niji=bool(spec.niji),
            negative=tuple(str(word) for word in spec.negative),
        )

    def to_json(self) -> dict[str, Any]:
        """The parameters as stored in a recipe."""
        return {**asdict(self), "negative": list(self.negative)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Params:
        """Read stored parameters back (missing ones take their defaults)."""
        return cls(
            chaos=int(data.get("chaos", 0)),
            stylize=int(data.get("stylize", 100)),
            weird=int(data.get("weird", 0)),
            tile=bool(data.get("tile", False)),
            niji=bool(data.get("niji", False)),
            negative=tuple(str(word) for word in data.get("negative", ())),
        )


def resolve_look(prompt: str, params: Params, seed: int, notes: tuple[Note, ...]) -> Look:
    """The prompt's look minus its --no words, moved by style references, scattered by --chaos.

    At --chaos c each picture switches to another allowed composition with probability 0.8 c
    and turns its palette by up to half the colour wheel times c, both fixed by its seed.
    """
    look = read_prompt(prompt, params.negative)
    look = replace(look, palette=styled(look.palette, notes))
    if not params.chaos:
        return look
    c = params.chaos / 100
    composition = look.composition
    if unit(seed, key_id("chaos_scene")) < 0.8 * c:
        others = [n for n in allowed_compositions(params.negative) if n != composition]
        if others:
            composition = others[int(unit(seed, key_id("chaos_pick")) * len(others))]
    hue = (unit(seed, key_id("chaos_hue")) - 0.5) * c
    value = 1 + (unit(seed, key_id("chaos_value")) - 0.5) * 0.4 * c
    return Look(shift_palette(look.palette, hue, value), composition, look.night)


@dataclass(frozen=True)
class Recipe:
    """Everything that fixes a procedural picture's pixels, besides its size."""

    prompt: str
    seed: int
    window: Window
    look: Look
    params: Params = field(default_factory=Params)
    drifts: tuple[tuple[int, float], ...] = ()
    patches: tuple[Patch, ...] = ()
    period: Window | None = None
    notes: tuple[Note, ...] = ()

    def world(self) -> World:
        """The seeded world this recipe shows a window of."""
        look, weird = self.look, self.params.weird
        return World(
            look.composition, look.night, self.seed, self.drifts, self.patches, weird, self.period
        )

    def to_json(self) -> dict[str, Any]:
        """The recipe as stored with the job."""
        return {
            "engine": ProceduralEngine.name,
            "version": _VERSION,
            "prompt": self.prompt,
            "seed": self.seed,
            "window": list(self.window),
            "drifts": [[seed, strength] for seed, strength in self.drifts],
            "patches": [[p.seed, *p.rect, p.ramp] for p in self.patches],
            "look": {
                "composition": self.look.composition,
                "palette": [list(c) for c in self.look.palette],
                "night": self.look.night,
            },
            "params": self.params.to_json(),
            "period": None if self.period is None else list(self.period),
            "references": [note.to_json() for note in self.notes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recipe | None:
        """Read a stored recipe back; None if it is not a procedural one this code understands."""
        if data.get("engine") != ProceduralEngine.name or data.get("version") not in (1, 2):
            return None
        try:
            window, period = _window(data["window"]), data.get("period")
            prompt, params = str(data["prompt"]), Params.from_json(data.get("params", {}))
            return cls(
                prompt=prompt,
                seed=int(data["seed"]),
                window=window,
                look=_look(data["look"]) if "look" in data else read_prompt(prompt),
                params=params,
                drifts=tuple((int(s), float(k)) for s, k in data.get("drifts", [])),
                patches=tuple(_patch(row) for row in data.get("patches", [])),
                period=None if period is None else _window(period),
                notes=tuple(Note.from_json(n) for n in data.get("references", [])),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _window(row: Sequence[Any]) -> Window:
    u0, v0, u1, v1 = (float(x) for x in row)
    if not (u0 < u1 and v0 < v1):
        raise ValueError(f"empty window {row}")
    return (u0, v0, u1, v1)


def _look(data: dict[str, Any]) -> Look:
    c = [(int(r), int(g), int(b)) for r, g, b in data["palette"]]
    if str(data["composition"]) not in PAINTERS:
        raise ValueError(f"unknown composition {data['composition']!r}")
    palette: Palette = (c[0], c[1], c[2], c[3], c[4])
    return Look(palette, str(data["composition"]), bool(data["night"]))


def _patch(row: Sequence[Any]) -> Patch:
    seed, u0, v0, u1, v1, ramp = row
    return Patch(int(seed), (float(u0), float(v0), float(u1), float(v1)), float(ramp))


def render(recipe: Recipe, size: tuple[int, int]) -> Image.Image:
    """Paint the recipe's window of its world at ``size`` pixels, with its parameters."""
    params, periodic = recipe.params, recipe.period is not None
    s = Sampler(recipe.window, size, recipe.seed, period=lengths(recipe.period))
    canvas = recipe.world().canvas(recipe.window, size)
    guide = Guide(recipe.notes, s, periodic)
    guide.shape(canvas)
    if params.stylize != 100:
        stylise(canvas, s, params.stylize)
    if params.niji:
        outline(canvas, periodic and recipe.window == recipe.period)
    image = to_image(canvas, _palette(recipe), params.niji, avoided(params.negative))
    return _clean(guide.tint(image), recipe) if guide.layers else image


def _clean(image: Image.Image, recipe: Recipe) -> Image.Image:
    """The --no colours taken out of pixels that blend colours after the palette (references,
    vary's carried edits, inpaint's feathered edge), where two allowed colours can mix into a
    banned one."""
    avoid = avoided(recipe.params.negative)
    return Image.fromarray(avoid_colours(np.asarray(image), avoid)) if avoid else image


def _palette(recipe: Recipe) -> Palette:
    """The look's palette with this picture's own small shift and the parameters' changes."""
    params, dice = recipe.params, Dice(recipe.seed, recipe.drifts)
    hue, value = dice.pick("hue", -0.04, 0.04), dice.pick("value", 0.92, 1.06)
    palette = shift_palette(recipe.look.palette, hue, value)
    if params.weird:
        side = 1 if unit(recipe.seed, key_id("weird_side")) < 0.5 else -1
        turn = side * (0.6 + 0.4 * unit(recipe.seed, key_id("weird_turn")))
        palette = weird_palette(palette, params.weird, turn)
    if params.stylize != 100:
        palette = stylize_palette(palette, params.stylize)
    return niji_palette(palette) if params.niji else palette


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

    name = "procedural"

    def __init__(self, threads: int = 2) -> None:
        self._threads = max(1, threads)

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
        seeds = [_seed(spec.seed, _SALT_VARY, salt, j) for j in range(count)]
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
        seeds = [_seed(spec.seed, _SALT_EXTEND, salt, j) for j in range(count)]
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
        seeds = [_seed(spec.seed, _SALT_INPAINT, len(recipe.drifts), j) for j in range(count)]
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
        return Picture(_clean(image, recipe) if refs.subjects else image, recipe.to_json())

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
        return Picture(_clean(image, recipe) if edits.any() else image, recipe.to_json())

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
        mixed = np.asarray(_clean(Image.fromarray(mixed), recipe))
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
