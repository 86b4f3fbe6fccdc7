"""Reference images (midapi ``fileUrls``): how each mode guides a procedural picture.

- "image" keeps the reference's layout: a colour thumbnail, at most 24 cells a side, is laid
  over the picture's world window; its brightness pulls the painted palette position and
  light towards it, and its colours tint the result, both in proportion to the weight.
- "style" takes the reference's colours: five palette colours from its brightness quantiles
  and its most saturated pixels, mixed into the prompt's palette by the weight. The layout is
  the prompt's own.
- "omni" puts the reference's subject in the picture: cut out by its own transparency, or
  matted against its border colour and feathered, then composited at a place the seed picks
  and a size the weight sets.

A recipe cannot hold the reference itself, so it keeps a ``Note`` of each: the digest, mode and
weight, plus what redraws the effect without the reference (the thumbnail, the palette). An
omni subject's pixels are not kept: a vary or pan of that picture carries it as part of the
picture's pixels (vary's edits, extend's pasted source), never re-fetching the reference.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from selfjourney.engines.base import Reference
from selfjourney.engines.procedural.fields import (
    F64,
    Sampler,
    Window,
    key_id,
    product,
    smoothstep,
    unit,
)
from selfjourney.engines.procedural.palette import F32, Canvas, Palette, avoid_colours, mix_palettes

MODES = ("image", "style", "omni")
_THUMB = 24  # cells on the long side of an image reference's thumbnail
_FADE = 0.15  # world units over which an image guide fades out beyond its window
_CUTOUT = 384  # long side of the working copy an omni subject is matted at
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class Note:
    """What a recipe keeps of one reference: enough to redraw its effect, never its pixels.

    ``rect`` is the world rectangle an image guide covers, or where an omni subject sits;
    ``cells`` and ``grid`` are an image guide's RGB thumbnail; ``palette`` a style's colours.
    """

    mode: str
    weight: float
    digest: str
    rect: Window | None = None
    cells: bytes = b""
    grid: tuple[int, int] = (0, 0)
    palette: Palette | None = None

    def to_json(self) -> dict[str, Any]:
        """The note as stored in a recipe (the thumbnail as base64, about 2 kB)."""
        data: dict[str, Any] = {"mode": self.mode, "weight": self.weight, "digest": self.digest}
        if self.rect is not None:
            data["rect"] = list(self.rect)
        if self.cells:
            data["grid"] = list(self.grid)
            data["cells"] = base64.b64encode(self.cells).decode()
        if self.palette is not None:
            data["palette"] = [list(c) for c in self.palette]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Note:
        """Read a stored note back; raises KeyError, TypeError or ValueError if malformed."""
        mode, rect, palette = str(data["mode"]), data.get("rect"), data.get("palette")
        gw, gh = (int(x) for x in data.get("grid", (0, 0)))
        cells = base64.b64decode(data.get("cells", ""), validate=True)
        if mode not in MODES or len(cells) != gw * gh * 3:
            raise ValueError(f"bad reference note: {mode}, {gw}x{gh}, {len(cells)} bytes")
        return cls(
            mode=mode,
            weight=float(data["weight"]),
            digest=str(data["digest"]),
            rect=None if rect is None else _window(rect),
            cells=cells,
            grid=(gw, gh),
            palette=None if palette is None else _palette(palette),
        )


def _window(row: Any) -> Window:
    u0, v0, u1, v1 = (float(x) for x in row)
    return (u0, v0, u1, v1)


def _palette(rows: Any) -> Palette:
    c = [(int(r), int(g), int(b)) for r, g, b in rows]
    return (c[0], c[1], c[2], c[3], c[4])


@dataclass(frozen=True)
class Prepared:
    """A grid's references made ready once: the notes all its pictures share (image, style),
    and the omni subjects, matted, that each picture places by its own seed."""

    shared: tuple[Note, ...] = ()
    subjects: tuple[tuple[Reference, Image.Image], ...] = ()

    def place(self, seed: int, window: Window) -> tuple[Note, ...]:
        """All the notes of picture ``seed``: the shared ones, then its omni subjects' boxes."""
        count = len(self.subjects)
        return self.shared + tuple(
            omni_note(reference, subject, (seed, k, count), window)
            for k, (reference, subject) in enumerate(self.subjects)
        )

    def paste(self, image: Image.Image, notes: tuple[Note, ...], window: Window) -> Image.Image:
        """Composite the omni subjects where ``notes`` place them on ``image`` of ``window``."""
        boxes = [note.rect for note in notes if note.mode == "omni" and note.rect is not None]
        for box, (_, subject) in zip(boxes, self.subjects, strict=True):
            image = paste(image, subject, box, window)
        return image


def prepare(
    references: tuple[Reference, ...], window: Window, size: tuple[int, int], avoid: tuple[str, ...]
) -> Prepared:
    """Check every reference, then reduce each to what painting needs (``avoid``: --no colours).

    Raises ValueError for an unknown mode, before any pixel is drawn.
    """
    for reference in references:
        if reference.mode not in MODES:
            raise ValueError(f"unknown reference mode {reference.mode!r}; expected one of {MODES}")
    shared = tuple(
        image_note(r, window, size, avoid) if r.mode == "image" else style_note(r, avoid)
        for r in references
        if r.mode != "omni"
    )
    subjects = tuple((r, cutout(r, avoid)) for r in references if r.mode == "omni")
    return Prepared(shared, subjects)


def digest(image: Image.Image) -> str:
    """A short stable name for a reference's pixels, recorded in place of the image."""
    rgba = image.convert("RGBA")
    h = hashlib.sha256(f"{rgba.width}x{rgba.height}:".encode())
    h.update(rgba.tobytes())
    return h.hexdigest()[:16]


def _weight(reference: Reference) -> float:
    return min(max(float(reference.weight), 0.0), 1.0)


def image_note(
    reference: Reference, window: Window, size: tuple[int, int], avoid: tuple[str, ...]
) -> Note:
    """The reference cropped to the picture's shape and shrunk to a thumbnail over ``window``."""
    width, height = size
    long = max(width, height)
    grid = (max(1, round(_THUMB * width / long)), max(1, round(_THUMB * height / long)))
    thumb = ImageOps.fit(reference.image.convert("RGB"), grid, Image.Resampling.BOX)
    cells = np.asarray(thumb, np.uint8)
    if avoid:
        cells = avoid_colours(cells, avoid)
    return Note("image", _weight(reference), digest(reference.image), window, cells.tobytes(), grid)


def style_note(reference: Reference, avoid: tuple[str, ...]) -> Note:
    """Five palette colours from the reference, by brightness and saturation."""
    small = reference.image.convert("RGB").resize((48, 48), Image.Resampling.BOX)
    px = np.asarray(small, np.float32).reshape(-1, 3)
    if avoid:
        px = avoid_colours(px.round().astype(np.uint8), avoid).astype(np.float32)
    order, n = np.argsort(px @ _LUMA, kind="stable"), px.shape[0]

    def band(lo: float, hi: float) -> tuple[int, int, int]:
        return _mean_colour(px[order[int(lo * n) : max(int(hi * n), int(lo * n) + 1)]])

    vivid = px.max(axis=1) - px.min(axis=1) + 0.2 * px.max(axis=1)
    accent = _mean_colour(px[np.argsort(vivid, kind="stable")[-max(1, n // 25) :]])
    palette = (band(0.3, 0.5), band(0.82, 0.97), accent, band(0.5, 0.7), band(0.0, 0.1))
    return Note("style", _weight(reference), digest(reference.image), palette=palette)


def _mean_colour(px: F32) -> tuple[int, int, int]:
    r, g, b = (round(float(x)) for x in px.mean(axis=0))
    return (r, g, b)


def styled(palette: Palette, notes: tuple[Note, ...]) -> Palette:
    """The prompt's palette moved towards the style references' colours, by their weights."""
    styles = [n for n in notes if n.mode == "style" and n.palette is not None and n.weight > 0]
    if not styles:
        return palette
    blend = styles[0].palette
    assert blend is not None
    total = styles[0].weight
    for note in styles[1:]:
        assert note.palette is not None
        total += note.weight
        blend = mix_palettes(blend, note.palette, note.weight / total)
    return mix_palettes(palette, blend, max(n.weight for n in styles) ** 0.5)


class Guide:
    """Image references laid over one pixel grid, each pulling the picture towards it.

    ``periodic`` repeats each thumbnail over its window (--tile) instead of fading it out.
    """

    def __init__(self, notes: tuple[Note, ...], s: Sampler, periodic: bool) -> None:
        self.layers = [_Layer(n, s, periodic) for n in notes if n.mode == "image" and n.weight > 0]

    def shape(self, canvas: Canvas) -> None:
        """Pull the painting's palette position and light towards each reference's brightness.

        The accent (the sun, lit windows) keeps its palette position, so it keeps its colour.
        """
        for layer in self.layers:
            luma = layer.field(layer.cells @ (_LUMA / np.float32(255)))
            a = layer.pull() * np.float32(0.9)
            accent = canvas.t > 1.04
            canvas.t += np.where(accent, 0, a) * (1 - 0.7 * luma - canvas.t)
            canvas.light += a * (0.3 + 0.4 * luma - canvas.light)

    def tint(self, image: Image.Image) -> Image.Image:
        """Move the coloured picture towards each reference's colours."""
        for layer in self.layers:
            channels = [layer.field(layer.cells[..., c]) for c in range(3)]
            bands = [Image.fromarray(c.clip(0, 255).astype(np.uint8), "L") for c in channels]
            colours = Image.merge("RGB", bands)
            pull = layer.pull()
            if isinstance(pull, float):
                image = Image.blend(image, colours, 0.55 * pull)
            else:
                mask = Image.fromarray((pull * (0.55 * 255)).round().astype(np.uint8), "L")
                image = Image.composite(colours, image, mask)
        return image


class _Layer:
    """One image guide on a pixel grid: its thumbnail, interpolation matrices and fades."""

    def __init__(self, note: Note, s: Sampler, periodic: bool) -> None:
        assert note.rect is not None
        u0, v0, u1, v1 = note.rect
        gw, gh = note.grid
        self.cells = np.frombuffer(note.cells, np.uint8).reshape(gh, gw, 3).astype(np.float32)
        if periodic:
            self.cells = _wrapping(_wrapping(self.cells, 0), 1)
        self.mu, self.fade_u = _tent((s.u - u0) / (u1 - u0), gw, periodic, u1 - u0)
        self.mv, self.fade_v = _tent((s.v - v0) / (v1 - v0), gh, periodic, v1 - v0)
        self.weight = note.weight

    def field(self, cells: F32) -> F32:
        """A (gh, gw) grid of values interpolated onto every pixel."""
        return product(product(self.mv, np.ascontiguousarray(cells)), self.mu.T)

    def pull(self) -> F32 | float:
        """The weight at each pixel, fading out beyond the window: a number where it does not."""
        if self.fade_u.min() == 1 and self.fade_v.min() == 1:
            return self.weight
        out: F32 = self.fade_v[:, None] * self.fade_u[None, :] * np.float32(self.weight)
        return out


def _wrapping(cells: F32, axis: int) -> F32:
    """The thumbnail made to wrap along ``axis``: towards each edge it fades into itself shifted
    by half, which runs on across the edge (the classic seamless-texture cross-fade)."""
    n = cells.shape[axis]
    if n < 2:
        return cells
    edge = np.minimum(np.arange(n) + 0.5, n - np.arange(n) - 0.5) / n
    keep = smoothstep(0.0, 0.25, edge.astype(np.float32))
    keep = keep.reshape([-1 if a == axis else 1 for a in range(cells.ndim)])
    out: F32 = keep * cells + (1 - keep) * np.roll(cells, n // 2, axis=axis)
    return out


def _tent(x: F64, cells: int, periodic: bool, length: float) -> tuple[F32, F32]:
    """Linear interpolation matrix from ``cells`` values to positions ``x`` (0..1 spans them),
    and a fade that is 1 inside 0..1 and falls to 0 within ``_FADE`` world units outside."""
    pos = x * cells - 0.5
    if periodic:
        first = np.floor(pos)
        lo, hi = first.astype(np.int64) % cells, (first.astype(np.int64) + 1) % cells
        fade = np.ones(x.size, np.float32)
    else:
        pos = np.clip(pos, 0, cells - 1)
        first = np.minimum(np.floor(pos), max(cells - 2, 0))
        lo, hi = first.astype(np.int64), np.minimum(first.astype(np.int64) + 1, cells - 1)
        outside = np.maximum(np.maximum(-x, x - 1), 0) * length
        fade = smoothstep(0.0, 1.0, (1 - outside / _FADE).astype(np.float32))
    frac = (pos - first).astype(np.float32)
    m = np.zeros((x.size, cells), np.float32)
    rows = np.arange(x.size)
    np.add.at(m, (rows, lo), 1 - frac)
    np.add.at(m, (rows, hi), frac)
    return m, fade


def cutout(reference: Reference, avoid: tuple[str, ...]) -> Image.Image:
    """The reference's subject as RGBA: its own transparency if it has one, else the pixels
    unlike its border colour, in a feathered oval."""
    image = reference.image.convert("RGBA")
    scale = min(1.0, _CUTOUT / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    small = image.resize(size, Image.Resampling.BOX)
    rgb = np.asarray(small.convert("RGB"), np.uint8)
    if avoid:
        rgb = avoid_colours(rgb, avoid)
    out = Image.fromarray(rgb, "RGB")
    if "A" in reference.image.getbands() or "transparency" in reference.image.info:
        out.putalpha(small.getchannel("A"))
        return out
    px = rgb.astype(np.float32)
    ring = np.concatenate([px[0], px[-1], px[:, 0], px[:, -1]])
    distance = np.sqrt(((px - np.median(ring, axis=0)) ** 2).sum(axis=-1)) / 441
    h, w = distance.shape
    dy = (np.arange(h, dtype=np.float32) + 0.5) / h * 2 - 1
    dx = (np.arange(w, dtype=np.float32) + 0.5) / w * 2 - 1
    oval = smoothstep(1.0, 0.82, np.sqrt(dy[:, None] ** 2 + dx[None, :] ** 2))
    alpha = smoothstep(0.06, 0.2, distance) * oval
    matte = Image.fromarray((alpha * 255).round().astype(np.uint8), "L")
    matte = matte.filter(ImageFilter.GaussianBlur(max(0.5, 0.012 * max(size))))
    out.putalpha(matte)
    return out


def omni_note(
    reference: Reference, subject: Image.Image, place: tuple[int, int, int], window: Window
) -> Note:
    """Where the subject goes: ``place`` is (picture seed, subject index, subject count), and
    the box, sized by the weight and shaped like the subject, lies inside ``window``."""
    seed, index, count = place
    u0, v0, u1, v1 = window
    weight = _weight(reference)
    side = (0.3 + 0.35 * weight) * min(u1 - u0, v1 - v0) / max(1, count) ** 0.5
    aspect = subject.width / subject.height
    bw, bh = (side, side / aspect) if aspect >= 1 else (side * aspect, side)
    x = u0 + unit(seed, key_id("omni_u"), index) * max(u1 - u0 - bw, 0)
    y = v0 + unit(seed, key_id("omni_v"), index) * max(v1 - v0 - bh, 0)
    return Note("omni", weight, digest(reference.image), rect=(x, y, x + bw, y + bh))


def paste(image: Image.Image, subject: Image.Image, box: Window, window: Window) -> Image.Image:
    """Composite the subject over ``image`` (which shows ``window``) at world ``box``."""
    u0, v0, u1, v1 = window
    pu, pv = (u1 - u0) / image.width, (v1 - v0) / image.height
    left, top = round((box[0] - u0) / pu), round((box[1] - v0) / pv)
    right, bottom = round((box[2] - u0) / pu), round((box[3] - v0) / pv)
    if right <= left or bottom <= top:
        return image
    placed = subject.resize((right - left, bottom - top), Image.Resampling.LANCZOS)
    out = image.copy()
    out.paste(placed, (left, top), placed)
    return out
