"""How the procedural engine reads a prompt: colour and mood words pick a palette, subject
words pick a composition, and a hash of the words covers everything else. Words given with
--no are ignored in the prompt, rule out their composition, and take their hues out of every
colour the picture can use.

Pictures are painted as two scalar fields, a palette position ``t`` (0 sky top, 1/3 horizon
glow, 2/3 land, 1 deep shadow, 1.25 accent) and a light level (0.5 neutral), turned into
colours through one posterised lookup table: flat gouache-like bands that also PNG-encode fast
(fewer, harder bands for --niji's cel look).
"""

from __future__ import annotations

import colorsys
import math
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]
Rgb = tuple[int, int, int]
Palette = tuple[Rgb, Rgb, Rgb, Rgb, Rgb]

_T_LEVELS = 768
_T_MAX = 1.5  # t beyond 1 is the accent colour, kept apart from the sky-to-shadow ramp
_L_LEVELS = 32
_T_BANDS = 45
_L_BANDS = 9
_SOFT = 0.3  # share of each band spent blending into the next one
_CEL = (16, 5, 0.04)  # --niji: fewer, harder bands of t and light, and their soft share

# sky top, horizon glow, accent, land, deep shadow
_PALETTES: dict[str, tuple[str, str, str, str, str]] = {
    "red": ("#5c1a1b", "#f08a5d", "#ffd369", "#b83b3b", "#2b0a0d"),
    "blue": ("#0f2c59", "#8fc1e3", "#f4f1bb", "#3066be", "#0a1931"),
    "green": ("#1d3b2a", "#cfe8a9", "#f6e27f", "#4f8a3c", "#10241a"),
    "gold": ("#5a3d0a", "#ffe29a", "#fff3c4", "#c9962b", "#2e1f05"),
    "purple": ("#2d1b4e", "#c7a4e8", "#ffd6f5", "#6a3d9a", "#140a26"),
    "orange": ("#7a2e0e", "#ffb26b", "#fff0b3", "#e0642a", "#3a1405"),
    "pink": ("#6b2d5c", "#ffc2d9", "#fff0f5", "#e0709b", "#3a1230"),
    "dark": ("#05060f", "#1f2a48", "#e8d9a8", "#141a2e", "#020206"),
    "white": ("#9fb4c8", "#f4f7fb", "#ffe9b5", "#d6e0ea", "#6a7d92"),
    "sunset": ("#3b1d5a", "#ff9e6d", "#ffe08a", "#c2456b", "#1e0b2b"),
    "ocean": ("#0b3954", "#bfe9ff", "#fff5c0", "#087e8b", "#03202f"),
    "forest": ("#23402b", "#d8e8b8", "#f3d57a", "#3f6b35", "#0e1f12"),
    "neon": ("#0d0221", "#ff2a6d", "#05d9e8", "#3a0ca3", "#05010f"),
    "desert": ("#6d8fb3", "#f8dcae", "#fff4d6", "#d89b5b", "#6b3d1f"),
    "fire": ("#2b0504", "#ff7b00", "#ffd000", "#c21807", "#120100"),
    "autumn": ("#5b3a29", "#f6c177", "#ffe8a3", "#b5532a", "#2a140a"),
    "grey": ("#4a4e57", "#c9ccd1", "#f0efe9", "#7d828c", "#1f2126"),
    "teal": ("#0b4f4a", "#a8e6da", "#fdf6c3", "#1d8a7e", "#04221f"),
    "pastel": ("#a3b8e0", "#fde2e4", "#fff6d6", "#c5a3d9", "#6d6a9c"),
}

_ALIASES: dict[str, str] = {
    "crimson": "red", "scarlet": "red", "ruby": "red", "blood": "red",
    "azure": "blue", "navy": "blue", "sapphire": "blue", "cobalt": "blue", "sky": "blue",
    "emerald": "green", "jade": "green", "lime": "green", "olive": "green",
    "golden": "gold", "yellow": "gold", "amber": "gold", "honey": "gold",
    "violet": "purple", "lavender": "purple", "magenta": "purple", "indigo": "purple",
    "peach": "orange", "tangerine": "orange", "copper": "orange",
    "rose": "pink", "blush": "pink", "sakura": "pink",
    "black": "dark", "night": "dark", "midnight": "dark", "noir": "dark", "gothic": "dark",
    "snow": "white", "winter": "white", "ice": "white", "frozen": "white", "silver": "white",
    "dusk": "sunset", "sunrise": "sunset", "dawn": "sunset", "twilight": "sunset",
    "sea": "ocean", "underwater": "ocean", "tropical": "ocean", "lagoon": "ocean",
    "jungle": "forest", "woods": "forest", "moss": "forest",
    "cyberpunk": "neon", "synthwave": "neon", "vaporwave": "neon", "futuristic": "neon",
    "sand": "desert", "dune": "desert", "dunes": "desert", "sahara": "desert",
    "lava": "fire", "flame": "fire", "flames": "fire", "volcano": "fire", "inferno": "fire",
    "fall": "autumn", "rust": "autumn", "brown": "autumn",
    "gray": "grey", "fog": "grey", "foggy": "grey", "mist": "grey", "misty": "grey",
    "cyan": "teal", "turquoise": "teal", "aqua": "teal", "mint": "teal",
    "soft": "pastel", "dreamy": "pastel", "spring": "pastel",
}  # fmt: skip

_SUBJECTS: dict[str, tuple[str, ...]] = {
    "city": ("city", "skyline", "town", "urban", "street", "building", "buildings",
             "downtown", "metropolis", "skyscraper", "skyscrapers", "cyberpunk"),
    "mountains": ("mountain", "mountains", "peak", "peaks", "alps", "cliff", "cliffs",
                  "volcano", "canyon", "himalaya"),
    "ocean": ("ocean", "sea", "water", "wave", "waves", "beach", "lake", "river", "coast",
              "shore", "seascape"),
    "space": ("space", "star", "stars", "starry", "galaxy", "nebula", "cosmos", "cosmic",
              "universe", "planet", "astronaut"),
    "bloom": ("flower", "flowers", "rose", "bloom", "blossom", "lotus", "mandala",
              "sunflower", "tulip", "orchid"),
    "portrait": ("portrait", "face", "person", "woman", "man", "girl", "boy", "selfie",
                 "queen", "king", "warrior"),
    "forest": ("forest", "tree", "trees", "woods", "jungle", "pine", "pines", "grove",
               "trunk", "birch"),
}  # fmt: skip

_SUBJECT_OF = {word: subject for subject, words in _SUBJECTS.items() for word in words}
_NIGHT = frozenset({"night", "midnight", "stars", "starry", "moon", "moonlight", "nocturnal"})

#: Every composition the engine paints (``scenes.PAINTERS`` has one function per name).
COMPOSITIONS = ("landscape", "mountains", "ocean", "city", "forest", "space", "bloom", "portrait")

# Hue ranges in degrees that --no takes out, and the words that name them.
_HUE_RANGES = {
    "red": (-18, 14), "orange": (14, 40), "gold": (40, 68), "green": (68, 160),
    "teal": (160, 195), "blue": (195, 255), "purple": (255, 292), "pink": (292, 342),
}  # fmt: skip
_HUE_WORDS = {
    "red": "red", "crimson": "red", "scarlet": "red", "ruby": "red",
    "orange": "orange", "tangerine": "orange", "peach": "orange",
    "gold": "gold", "golden": "gold", "yellow": "gold", "amber": "gold",
    "green": "green", "emerald": "green", "jade": "green", "lime": "green", "olive": "green",
    "teal": "teal", "cyan": "teal", "turquoise": "teal", "aqua": "teal",
    "blue": "blue", "azure": "blue", "navy": "blue", "sapphire": "blue", "cobalt": "blue",
    "purple": "purple", "violet": "purple", "lavender": "purple", "indigo": "purple",
    "pink": "pink", "magenta": "pink", "fuchsia": "pink",
    "black": "black", "dark": "black", "white": "white",
}  # fmt: skip
_MIN_HUE_SAT = 24  # Pillow saturation (0..255) below which a colour counts as grey
_HUE_PUSH = 8  # degrees a banned hue is moved past the edge of the nearest allowed range


SKY, GLOW, LAND, DEEP, ACCENT = 0.0, 1 / 3, 2 / 3, 1.0, 1.25
Mask = npt.NDArray[np.bool_]
Value = npt.NDArray[np.floating[Any]] | float
Box = tuple[slice, slice]
ALL = slice(None)


class Canvas:
    """Palette position ``t`` and light (0.5 neutral) of every pixel, painted in place.

    ``t`` runs sky top (0), horizon glow, land, deep shadow (1); the accent sits apart at 1.25.
    Shapes are hard-edged, like cut paper: no halo colours, and cheap to PNG-encode.
    """

    def __init__(self, shape: tuple[int, int], t: Value, light: Value) -> None:
        self.t: F32 = np.empty(shape, np.float32)
        self.light: F32 = np.empty(shape, np.float32)
        self.t[...] = t
        self.light[...] = light

    def put(self, mask: Mask, t: Value, light: Value, box: Box = (ALL, ALL)) -> None:
        """Paint ``t`` and ``light`` where ``mask`` holds, inside the ``box`` of pixels."""
        np.copyto(self.t[box], t, where=mask)
        np.copyto(self.light[box], light, where=mask)


@dataclass(frozen=True)
class Look:
    """What the prompt asks for: five colours, a composition name, and stars in the sky."""

    palette: Palette
    composition: str
    night: bool


def words(prompt: str) -> list[str]:
    """Lowercase word tokens: the only part of the prompt the engine reads."""
    return re.findall(r"[a-z]+", prompt.lower())


def read_prompt(prompt: str, negative: tuple[str, ...] = ()) -> Look:
    """Pick palette, composition and night sky from the prompt's words, minus the --no words."""
    banned = set(words(" ".join(negative)))
    tokens = [token for token in words(prompt) if token not in banned]
    allowed = allowed_compositions(negative)
    night = bool(_NIGHT.intersection(tokens)) and not _NIGHT.intersection(banned)
    return Look(_palette(tokens), _composition(tokens, allowed), night)


def allowed_compositions(negative: tuple[str, ...]) -> tuple[str, ...]:
    """The compositions the --no words leave (all of them if they would leave none)."""
    banned = {_SUBJECT_OF.get(token, token) for token in words(" ".join(negative))}
    return tuple(name for name in COMPOSITIONS if name not in banned) or COMPOSITIONS


def avoided(negative: tuple[str, ...]) -> tuple[str, ...]:
    """The colour names (hues, "black", "white") that --no words take out, sorted."""
    return tuple(sorted({_HUE_WORDS[t] for t in words(" ".join(negative)) if t in _HUE_WORDS}))


def _composition(tokens: list[str], allowed: tuple[str, ...]) -> str:
    for first, second in zip(tokens, tokens[1:], strict=False):
        if first == "night" and second == "sky" and "space" in allowed:
            return "space"
    for token in tokens:
        if _SUBJECT_OF.get(token) in allowed:
            return _SUBJECT_OF[token]
    return "landscape" if "landscape" in allowed else allowed[0]


def _palette(tokens: list[str]) -> Palette:
    names: list[str] = []
    for token in tokens:
        name = token if token in _PALETTES else _ALIASES.get(token)
        if name and name not in names:
            names.append(name)
    if not names:
        return _hashed_palette(zlib.crc32(" ".join(tokens).encode()) / 2**32)
    # The first word sets sky and land; later words lend the glow and the accent.
    order = (0, 1, 2, 0, 0) if len(names) > 1 else (0, 0, 0, 0, 0)
    slots = [_PALETTES[names[min(pick, len(names) - 1)]][i] for i, pick in enumerate(order)]
    return (_rgb(slots[0]), _rgb(slots[1]), _rgb(slots[2]), _rgb(slots[3]), _rgb(slots[4]))


def _rgb(code: str) -> Rgb:
    return (int(code[1:3], 16), int(code[3:5], 16), int(code[5:7], 16))


def _hsv(h: float, s: float, v: float) -> Rgb:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (round(r * 255), round(g * 255), round(b * 255))


def _hashed_palette(hue: float) -> Palette:
    """A harmonious palette around one hue, so any prompt gets its own stable colours."""
    return (
        _hsv(hue, 0.55, 0.42),
        _hsv(hue + 0.08, 0.3, 0.95),
        _hsv(hue + 0.5, 0.45, 1.0),
        _hsv(hue - 0.06, 0.55, 0.6),
        _hsv(hue - 0.1, 0.7, 0.18),
    )


def shift_palette(palette: Palette, hue: float, value: float) -> Palette:
    """Rotate the hue and scale the brightness a little, so sibling pictures differ."""
    out: list[Rgb] = []
    for r, g, b in palette:
        h, s, v = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
        out.append(_hsv(h + hue, s, min(1.0, v * value)))
    return (out[0], out[1], out[2], out[3], out[4])


def mix_palettes(a: Palette, b: Palette, k: float) -> Palette:
    """``a`` moved a share ``k`` (0..1) of the way to ``b``, colour by colour."""
    out = [
        tuple(round(x + k * (y - x)) for x, y in zip(ca, cb, strict=True))
        for ca, cb in zip(a, b, strict=True)
    ]
    return _palette_of(out)


def stylize_palette(palette: Palette, stylize: int) -> Palette:
    """--stylize: plainer colours below 100 (less saturation and contrast), bolder above."""
    plain, strong = min(stylize, 100) / 100, max(stylize - 100, 0) / 900
    saturation = 0.5 + 0.5 * plain + 0.55 * strong
    contrast = 0.65 + 0.35 * plain + 0.45 * strong
    hsv = [colorsys.rgb_to_hsv(r / 255, g / 255, b / 255) for r, g, b in palette]
    mean = sum(v for _, _, v in hsv) / len(hsv)
    return _palette_of(
        _hsv(h, min(1.0, s * saturation), min(max(mean + (v - mean) * contrast, 0.0), 1.0))
        for h, s, v in hsv
    )


def niji_palette(palette: Palette) -> Palette:
    """--niji: bright, saturated anime colours; greys stay grey."""
    hsv = [colorsys.rgb_to_hsv(r / 255, g / 255, b / 255) for r, g, b in palette]
    return _palette_of(
        _hsv(h, min(1.0, s * 1.3 + 0.2) if s > 0.06 else s, min(1.0, 0.28 + 0.85 * v))
        for h, s, v in hsv
    )


def weird_palette(palette: Palette, weird: int, turn: float) -> Palette:
    """--weird: each colour's hue turned a different way off the prompt's, more as it rises.

    ``turn`` (-1..1, from the seed) sets the direction and spread, so pictures differ.
    """
    strength = math.sqrt(min(max(weird, 0), 3000) / 3000)
    hsv = [colorsys.rgb_to_hsv(r / 255, g / 255, b / 255) for r, g, b in palette]
    return _palette_of(
        _hsv(h + strength * turn * (0.2 + 0.13 * k), s + 0.4 * strength * (1 - s) * (s > 0.06), v)
        for k, (h, s, v) in enumerate(hsv)
    )


def _palette_of(colours: Iterable[Sequence[int]]) -> Palette:
    c = [(int(r), int(g), int(b)) for r, g, b in colours]
    return (c[0], c[1], c[2], c[3], c[4])


@lru_cache(maxsize=64)
def lookup_table(
    palette: Palette, cel: bool = False, avoid: tuple[str, ...] = ()
) -> npt.NDArray[np.uint32]:
    """Packed RGBX colours indexed by ``light_level * _T_LEVELS + t_level``, banded.

    ``cel`` makes the bands few and hard (--niji); ``avoid`` takes named colours out of every
    entry (--no), so no pixel can show them whatever the painting does.
    """
    t_bands, l_bands, soft = _CEL if cel else (_T_BANDS, _L_BANDS, _SOFT)
    top, glow, accent, land, deep = (np.array(c, np.float32) for c in palette)
    stops = np.stack([top, glow, land, deep, deep, 0.7 * accent + 0.3 * deep, accent, accent])
    stops[-1] += (255 - accent) * 0.45
    at = np.array([0, 1 / 3, 2 / 3, 1, 1.08, 1.12, 1.25, 1.5])
    t = _bands(np.linspace(0, 1, _T_LEVELS), t_bands, soft, cel) * _T_MAX
    rgb = np.stack([np.interp(t, at, stops[:, c]) for c in range(3)], 1)
    light = _bands(np.linspace(0, 1, _L_LEVELS), l_bands, soft, cel)[:, None, None]
    dark = rgb[None] * (0.3 + 1.4 * light)
    bright = rgb[None] + (255 - rgb[None]) * (light - 0.5) * 1.7
    table = np.where(light < 0.5, dark, bright).clip(0, 255).round().astype(np.uint8)
    packed = np.zeros((_L_LEVELS * _T_LEVELS, 4), np.uint8)
    packed[:, :3] = avoid_colours(table.reshape(-1, 3), avoid) if avoid else table.reshape(-1, 3)
    return packed.view(np.uint32).ravel()


def _bands(
    x: npt.NDArray[np.float64], count: int, soft: float, nearest: bool = False
) -> npt.NDArray[np.float64]:
    """Posterise 0..1 into ``count`` flat bands joined by short ramps.

    A value falls to the band below it, or with ``nearest`` to the closest one: with few bands
    (cel shading) flooring would darken every light level just under neutral by a whole band.
    """
    scaled = x * (count - 1) + (0.5 if nearest else 0.0)
    base = np.floor(scaled)
    ramp = np.clip((scaled - base - (1 - soft)) / soft, 0, 1)
    return np.clip((base + ramp) / (count - 1), 0, 1)


def avoid_colours(rgb: U8, avoid: tuple[str, ...]) -> U8:
    """RGB pixels (any shape ending in 3) with the named colours taken out (--no).

    A banned hue moves just past the nearest allowed one (all hues banned: grey); "black"
    lifts the darkest values, "white" tints and dims the palest bright ones.
    """
    flat = np.ascontiguousarray(rgb, np.uint8).reshape(-1, 1, 3)
    hsv = np.asarray(Image.fromarray(flat, "RGB").convert("HSV")).astype(np.int16)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    hues = tuple(name for name in avoid if name in _HUE_RANGES)
    new = np.stack([_hue_remap(hues)[h] if hues else h, s, v], axis=-1)
    if hues:
        grey = (new[..., 0] < 0) & (s >= _MIN_HUE_SAT)
        new[..., 0] = np.where(s >= _MIN_HUE_SAT, np.maximum(new[..., 0], 0), h)
        new[..., 1] = np.where(grey, 0, s)
    if "black" in avoid:
        new[..., 2] = np.maximum(v, 72)
    if "white" in avoid:
        pale = (v > 205) & (s < 60)
        new[..., 1] = np.where(pale, 60, new[..., 1])
        new[..., 2] = np.where(pale, 205, new[..., 2])
    changed = (new != hsv).any(axis=-1)
    back = np.asarray(Image.fromarray(new.astype(np.uint8), "HSV").convert("RGB"))
    out = np.where(changed[..., None], back, flat)
    return out.reshape(np.shape(rgb)).astype(np.uint8)


@lru_cache(maxsize=32)
def _hue_remap(names: tuple[str, ...]) -> npt.NDArray[np.int16]:
    """For each of Pillow's 256 hues, the hue to use instead (-1: none is left, go grey)."""
    banned = np.zeros(360, bool)
    for name in names:
        lo, hi = _HUE_RANGES[name]
        banned[np.arange(lo, hi) % 360] = True
    degrees = np.arange(256) * 360 // 256
    if banned.all():
        return np.full(256, -1, np.int16)
    allowed = np.flatnonzero(~banned)
    out = np.empty(256, np.int16)
    for i, deg in enumerate(degrees):
        out[i] = i if not banned[deg] else _nearest_allowed(int(deg), allowed, banned)
    return out


def _nearest_allowed(deg: int, allowed: npt.NDArray[np.intp], banned: npt.NDArray[np.bool_]) -> int:
    offsets = (allowed - deg + 180) % 360 - 180
    step = int(offsets[np.argmin(np.abs(offsets))])
    pushed = deg + step + _HUE_PUSH * (1 if step > 0 else -1)
    target = pushed if not banned[pushed % 360] else deg + step
    return round((target % 360) * 256 / 360) % 256


def to_image(
    canvas: Canvas, palette: Palette, cel: bool = False, avoid: tuple[str, ...] = ()
) -> Image.Image:
    """Colour the two painted fields through the palette's banded lookup table."""
    t, light = canvas.t, canvas.light
    ti = np.clip(t * ((_T_LEVELS - 1) / _T_MAX) + 0.5, 0, _T_LEVELS - 1).astype(np.int32)
    li = np.clip(light * (_L_LEVELS - 1) + 0.5, 0, _L_LEVELS - 1).astype(np.int32)
    ti += li * _T_LEVELS
    pixels = np.ascontiguousarray(lookup_table(palette, cel, avoid)[ti])
    height, width = pixels.shape
    return Image.frombuffer("RGBX", (width, height), pixels, "raw", "RGBX", 0, 1).convert("RGB")
