"""A procedural picture's recipe: the seeded world window, look and parameters it shows.

The recipe is everything needed to paint the picture again at any size, or a wider window of
it (pan, zoom out); its JSON is kept with the job (the layout is in ``engine``'s docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from selfjourney.engines.base import Spec
from selfjourney.engines.procedural.fields import Dice, Patch, Sampler, Window, key_id, mix64, unit
from selfjourney.engines.procedural.palette import (
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
from selfjourney.engines.procedural.references import Guide, Note, styled
from selfjourney.engines.procedural.scenes import PAINTERS, World, lengths, outline, stylise

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]

ENGINE_NAME = "procedural"
_VERSION = 2
#: Seed salts, so a vary, an extend and an inpaint of one seed never draw the same numbers.
SALT_VARY, SALT_EXTEND, SALT_INPAINT = 0x5641, 0x4558, 0x494E


def mix_seed(*parts: int) -> int:
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
            "engine": ENGINE_NAME,
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
        if data.get("engine") != ENGINE_NAME or data.get("version") not in (1, 2):
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
    return clean(guide.tint(image), recipe) if guide.layers else image


def clean(image: Image.Image, recipe: Recipe) -> Image.Image:
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
