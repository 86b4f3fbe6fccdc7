"""The procedural engine's compositions (landscape, city, ocean...), painted from the noise
fields of ``fields`` onto a ``Canvas``; the ``World`` that paints one of them on any window,
bent by --weird or repeating under --tile; and the finishing passes the parameters ask for:
--stylize's contrast and brush strokes, --niji's ink outlines.

A composition is a function ``(Sampler, Dice) -> Canvas``; ``PAINTERS`` names them all, by the
names ``palette.COMPOSITIONS`` lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selfjourney.engines.procedural.fields import (
    F64,
    I64,
    Dice,
    Patch,
    Sampler,
    Window,
    box,
    cell_rand,
    cut_in,
    dots,
    expand,
    margin_for,
    mix64,
    seam_cut,
    smoothstep,
    warp,
    wrap,
)
from selfjourney.engines.procedural.palette import ACCENT, DEEP, F32, GLOW, LAND, SKY, Canvas, Mask


def stamp(canvas: Canvas, stars: tuple[I64, I64, F32], where: Mask | None = None) -> None:
    """Light up star points (a small plus shape each) on the canvas."""
    rows, cols, glow = stars
    height, width = canvas.light.shape
    if where is not None:
        keep = where[rows, cols]
        rows, cols, glow = rows[keep], cols[keep], glow[keep]
    for dv, du, k in ((0, 0, 1.0), (0, 1, 0.6), (0, -1, 0.6), (1, 0, 0.6), (-1, 0, 0.6)):
        r, c = np.clip(rows + dv, 0, height - 1), np.clip(cols + du, 0, width - 1)
        canvas.light[r, c] = np.maximum(canvas.light[r, c], 0.5 + 0.5 * k * glow)


def sky(s: Sampler, d: Dice, horizon: float, sun: bool = True) -> Canvas:
    """Banded sky lightening towards the horizon, wind-stretched clouds, a sun and its glow."""
    cloud = s.noise("cloud", 1.2, 4.5, 5)
    t = cloud * np.float32(0.08)
    t += SKY + 0.03 + 0.3 * smoothstep(horizon - 0.8, horizon, s.rows)
    canvas = Canvas(s.shape, t, 0.5)
    if sun:
        radius = d.pick("sun_r", 0.035, 0.075)
        su, sv = d.pick("sun_u", 0.15, 0.85), horizon - d.pick("sun_h", 0.1, 0.32)
        where, u, v = box(s, su, sv, radius * 5)
        dist = np.sqrt((u - su) ** 2 + (v - sv) ** 2)
        glow = np.clip(1 - dist / (radius * 5), 0, 1) ** 2
        canvas.t[where] += glow * 0.6 * (GLOW - canvas.t[where])
        canvas.light[where] += glow * 0.1
        canvas.put(dist < radius, ACCENT, 0.6, where)
    return canvas


def landscape(s: Sampler, d: Dice) -> Canvas:
    """Rolling hills in four layers, hazy in the distance, under a banded sky."""
    horizon = d.pick("horizon", 0.45, 0.62)
    canvas = sky(s, d, horizon)
    shade = s.noise("land", 3.0, 3.0, 3) * np.float32(0.07)
    shade += 0.3 * np.clip(s.rows - horizon, -0.3, 0.25)
    for k in range(4):
        depth = k / 3
        ridge = horizon + 0.03 + 0.42 * depth**1.6
        ridge = ridge - (0.05 + 0.12 * depth) * s.noise(f"ridge{k}", 1.2 + 0.8 * k, 0, 6)
        canvas.put(s.rows > ridge, shade + (0.4 + 0.45 * depth), 0.5 - 0.04 * depth)
    return canvas


def mountains(s: Sampler, d: Dice) -> Canvas:
    """Sharp ridged peaks with snow caps, then a dark foreground hill."""
    horizon = d.pick("horizon", 0.5, 0.66)
    canvas = sky(s, d, horizon)
    tex = s.noise("rock", 4.0, 2.5, 3)
    shade = tex * np.float32(0.07)
    shade += 0.2 * np.clip(s.rows - horizon, -0.4, 0.3)
    for k in range(3):
        depth = k / 2
        peaks = (1 - np.abs(np.clip(1.8 * s.noise(f"peak{k}", 1.4 + k, 0, 6), -1, 1))) ** 2
        height = (0.1 + 0.22 * (1 - depth)) * peaks
        ridge = horizon + 0.1 * depth - height
        below = s.rows - ridge
        canvas.put(below > 0, shade + (0.45 + 0.4 * depth), 0.5)
        cap = (below < 0.02 + 0.1 * height + 0.03 * tex) & (below > 0) & (peaks > 0.55)
        canvas.put(cap, GLOW - 0.08 + 0.5 * shade, 0.62)
    hill = horizon + 0.3 - 0.06 * s.noise("hill", 1.0, 0, 4)
    canvas.put(s.rows > hill, DEEP - 0.06 + shade, 0.45)
    return canvas


def ocean(s: Sampler, d: Dice) -> Canvas:
    """A horizon over perspective waves, with glints and the sun's path on the water."""
    horizon = d.pick("horizon", 0.38, 0.55)
    canvas = sky(s, d, horizon)
    top = int(np.searchsorted(s.v, horizon))
    if top >= s.v.size:
        return canvas
    depth = s.v[top:] - horizon
    perspective = np.log(np.maximum(s.v - horizon, 0) + 0.015)
    waves = s.noise("wave", 2.5, 2.2, 4, v=perspective)[top:]
    z = depth.astype(np.float32)[:, None]
    water = waves * np.float32(0.1)
    water += 0.5 + 0.45 * smoothstep(0, 0.5, z)
    glint = waves > 0.5
    np.copyto(water, GLOW + 0.1 + 0.2 * z, where=glint)
    width = 0.03 + 0.4 * z
    path = (np.abs(s.cols - d.pick("sun_u", 0.15, 0.85)) < width) & (waves > 0.2)
    canvas.t[top:] = water
    canvas.light[top:] = 0.5 + 0.12 * path
    return canvas


def _cells(s: Sampler, width: float, offset: float) -> tuple[F64, F64]:
    """Cell index and position in the cell (0..1) of each column, for repeated shapes."""
    x = s.u / width + offset
    cell = np.floor(x)
    return cell, x - cell


def city(s: Sampler, d: Dice) -> Canvas:
    """A skyline: three depths of blocky towers with lit windows over a dark street."""
    ground = d.pick("ground", 0.72, 0.86)
    canvas = sky(s, d, ground - 0.12)
    for k in range(3):
        depth = k / 2
        width, offset = 0.055 - 0.012 * k, d.pick(f"offset{k}", 0, 1)
        cell, frac = _cells(s, width, offset)
        height = s.noise(f"tower{k}", 1 / width, 0, 2, u=(cell + 0.5 - offset) * width)
        top = ground - (0.1 + 0.28 * (1 - 0.5 * depth)) * (0.2 + 0.8 * np.clip(height + 0.5, 0, 1))
        solid = (s.rows > top) & ((frac > 0.06 * k) & (frac < 1 - 0.06 * k))[None, :]
        tone = (0.42 + 0.5 * depth + 0.04 * (cell % 2)).astype(np.float32)[None, :]
        canvas.put(solid, tone, 0.5 - 0.04 * depth)
        if k:
            lit = _windows(s, width, frac, k) & solid & (s.rows > top + 0.02)
            canvas.put(lit, ACCENT, 0.58)
    canvas.put(s.rows > ground, DEEP, 0.45)
    return canvas


def _windows(s: Sampler, width: float, frac: F64, k: int) -> Mask:
    """Grid of window panes, each on or off by a per-row plus per-column hash."""
    pane = width / 5
    col = np.floor(s.u / pane).astype(np.int64)
    row = np.floor(s.v / (pane * 1.3)).astype(np.int64)
    inside_u = (np.modf(s.u / pane)[0] > 0.35) & (frac > 0.12) & (frac < 0.9)
    inside_v = np.modf(s.v / (pane * 1.3))[0] > 0.4
    salt = mix64(s.seed, k)
    on = np.modf(cell_rand(salt, col)[None, :] + cell_rand(salt + 1, row)[:, None])[0] < 0.45
    out: Mask = on & inside_u[None, :] & inside_v[:, None]
    return out


def forest(s: Sampler, d: Dice) -> Canvas:
    """Rows of trunks under blobby canopies, paler with distance, on a mossy floor."""
    ground = d.pick("ground", 0.74, 0.86)
    canvas = sky(s, d, ground - 0.1)
    for k in range(3):
        depth = k / 2
        width, offset = 0.1 - 0.02 * k, d.pick(f"offset{k}", 0, 1)
        cell, frac = _cells(s, width, offset)
        centre = (cell + 0.5 - offset) * width
        place = 0.5 + 0.5 * s.noise(f"place{k}", 1 / width, 0, 1, u=centre)
        half = (0.06 + 0.05 * depth) * (1 + s.noise(f"girth{k}", 1 / width, 0, 1, u=centre))
        trunk = (np.abs(frac - place) < half) & (
            s.noise(f"gap{k}", 1 / width, 0, 1, u=centre) > -0.15
        )
        floor = ground + 0.05 * depth + 0.02 * s.noise(f"floor{k}", 3, 0, 3)
        canopy = s.noise(f"canopy{k}", 4.0, 4.0, 4)
        leaves = canopy + (0.3 - 0.1 * k - s.rows) * 1.5 > 0.1
        canvas.put(
            (trunk & (s.rows < floor)) | (s.rows > floor), 0.45 + 0.5 * depth, 0.5 - 0.03 * k
        )
        tone = canopy * np.float32(0.08)
        tone += 0.4 + 0.32 * depth
        canvas.put(leaves, tone, 0.52 + 0.1 * canopy)
    return canvas


def space(s: Sampler, d: Dice) -> Canvas:
    """Deep space: banded nebula clouds, a shaded planet and a field of stars."""
    deep = s.noise("deep", 1.2, 1.2, 3)
    nebula = s.noise("nebula", 1.6, 1.6, 6)
    nebula += 0.5 * deep
    t = 0.2 + 0.6 * nebula
    t += smoothstep(0.35, -0.15, nebula) * (0.03 + 0.05 * deep - t)
    canvas = Canvas(s.shape, t, 0.45)
    stamp(canvas, dots(s, "stars", 0.03, 0.5))
    pu, pv, radius = d.pick("planet_u", 0.2, 0.8), d.pick("planet_v", 0.2, 0.8), 0.13
    where, u, v = box(s, pu, pv, radius)
    du, dv = u - pu, v - pv
    shade = np.clip((du + dv) / radius, -1, 1)
    canvas.put(du * du + dv * dv < radius * radius, LAND + 0.2 * shade, 0.5 - 0.1 * shade, where)
    return canvas


def bloom(s: Sampler, d: Dice) -> Canvas:
    """A central flower: rings of rounded petals around a bright heart."""
    canvas = sky(s, d, 1.15, sun=False)
    cx, cy = d.pick("cx", 0.42, 0.58), d.pick("cy", 0.42, 0.58)
    where, u, v = box(s, cx, cy, 0.36)
    du, dv = u - cx, v - cy
    dist = np.sqrt(du * du + dv * dv)
    angle = np.arctan2(dv, du)
    petals = round(d.pick("petals", 5, 9))
    wave_c, wave_s = np.cos(petals * angle), np.sin(petals * angle)
    for k in range(3):
        turn = k * np.pi / 2 + d.pick("turn", 0, np.pi)
        shape = wave_c * np.float32(np.cos(turn)) - wave_s * np.float32(np.sin(turn))
        edge = (0.34 - 0.09 * k) * (0.62 + 0.38 * shape)
        tone = np.minimum(0.4 + 0.3 * dist / np.maximum(edge, 0.01) + 0.15 * k, DEEP)
        canvas.put(dist < edge, tone, 0.52 + 0.05 * shape, where)
    canvas.put(dist < 0.055, ACCENT, 0.55, where)
    return canvas


def portrait(s: Sampler, d: Dice) -> Canvas:
    """A bust silhouette (head and shoulders) framed by a halo, centred."""
    canvas = sky(s, d, 1.2, sun=False)
    cx, cy = d.pick("cx", 0.44, 0.56), d.pick("cy", 0.36, 0.44)
    where, u, v = box(s, cx, cy + 0.3, 0.6)
    du, dv = u - cx, v - cy
    canvas.put(np.abs(np.sqrt(du * du + dv * dv) - 0.27) < 0.025, ACCENT, 0.55, where)
    head = (du / 0.14) ** 2 + (dv / 0.19) ** 2 < 1
    body = (du / 0.38) ** 2 + ((dv - 0.56) / 0.3) ** 2 < 1
    neck = (np.abs(du) < 0.055) & (dv > 0) & (dv < 0.3)
    side = np.clip(du / 0.3, -1, 1)
    canvas.put(head | body | neck, 0.62 + 0.12 * side, 0.5 - 0.06 * side, where)
    return canvas


def night_sky(s: Sampler, canvas: Canvas) -> None:
    """Scatter stars over the darkest part of the sky."""
    stamp(canvas, dots(s, "night", 0.025, 0.35), canvas.t < 0.2)


PAINTERS = {
    f.__name__: f for f in (landscape, mountains, ocean, city, forest, space, bloom, portrait)
}


_WEIRD_REACH = 0.18  # world units --weird 3000 displaces a point by, at full noise
_TILE_BAND = 8  # a tile is painted 1/8 wider and taller, the band folded over its start
_PATCH_DRIFT = 0.7  # how far an extend candidate's re-seeded tile strays from the source's


def lengths(period: Window | None) -> tuple[float, float] | None:
    """Width and height of a repeating world rectangle, as ``Sampler`` takes them."""
    return None if period is None else (period[2] - period[0], period[3] - period[1])


@dataclass(frozen=True)
class World:
    """One seeded world as a recipe fixes it: the composition, its vary drifts and extend
    patches, how far --weird bends it, and the rectangle --tile repeats (``period``)."""

    composition: str
    night: bool
    seed: int
    drifts: tuple[tuple[int, float], ...] = ()
    patches: tuple[Patch, ...] = ()
    weird: int = 0
    period: Window | None = None

    def canvas(self, window: Window, size: tuple[int, int]) -> Canvas:
        """The world's painted fields on ``window`` at ``size`` pixels."""
        if self.period is None:
            return self._painted(window, size, self.drifts)
        return self._tiled(window, size)

    def _painted(
        self, window: Window, size: tuple[int, int], drifts: tuple[tuple[int, float], ...]
    ) -> Canvas:
        """The composition, painted a margin wider and warped back under --weird."""
        period = lengths(self.period)
        reach = _WEIRD_REACH * (self.weird / 3000) ** 0.5
        pixel = min((window[2] - window[0]) / size[0], (window[3] - window[1]) / size[1])
        margin = margin_for(reach, pixel) if reach else 0
        outer, outer_size = expand(window, size, margin)
        patches = () if self.period else self.patches
        s = Sampler(outer, outer_size, self.seed, drifts, patches, period)
        canvas = PAINTERS[self.composition](s, Dice(self.seed, drifts))
        if self.night and self.composition != "space":
            night_sky(s, canvas)
        if margin:
            canvas = warp(canvas, Sampler(window, size, self.seed, period=period), reach, margin)
        return canvas

    def _tiled(self, window: Window, size: tuple[int, int]) -> Canvas:
        """--tile: ``window`` of the repeating world, read from one folded tile.

        Extend candidates (patches) differ by a re-seeded tile cut in away from the source.
        """
        assert self.period is not None
        (lu, lv), origin = lengths(self.period) or (1.0, 1.0), self.period[:2]
        tile = (
            max(1, round(lu * size[0] / (window[2] - window[0]))),
            max(1, round(lv * size[1] / (window[3] - window[1]))),
        )
        canvas = self._tile(tile, self.drifts)
        if window == self.period and tile == size and not self.patches:
            return canvas
        s = Sampler(window, size, self.seed, period=(lu, lv))
        canvas = wrap(canvas, s, origin)
        for patch in self.patches:
            other = self._tile(tile, (*self.drifts, (patch.seed, _PATCH_DRIFT)))
            cut_in(canvas, wrap(other, s, origin), s.reach(patch), s)
        return canvas

    def _tile(self, tile: tuple[int, int], drifts: tuple[tuple[int, float], ...]) -> Canvas:
        """One period of the world, ``tile`` pixels, wrapping seamlessly at its edges."""
        assert self.period is not None
        u0, v0, u1, v1 = self.period
        (tw, th), period = tile, (u1 - u0, v1 - v0)
        band = (-(-tw // _TILE_BAND) if tw > 1 else 0, -(-th // _TILE_BAND) if th > 1 else 0)
        size = (tw + band[0], th + band[1])
        domain = (u0, v0, u0 + size[0] * period[0] / tw, v0 + size[1] * period[1] / th)
        canvas = self._painted(domain, size, drifts)
        return seam_cut(canvas, Sampler(domain, size, self.seed, period=period), tile)


def stylise(canvas: Canvas, s: Sampler, stylize: int) -> None:
    """--stylize: 100 leaves the picture as painted; lower flattens its light, higher deepens it
    and lays brush strokes over it (the palette's saturation follows in ``palette``)."""
    plain, strong = min(stylize, 100) / 100, max(stylize - 100, 0) / 900
    gain = np.float32(0.5 + 0.5 * plain + 0.6 * strong)
    canvas.light -= 0.5
    canvas.light *= gain
    canvas.light += 0.5
    if strong:
        strokes = s.noise("brush", 12.0, 48.0, 2)
        canvas.t += strokes * np.float32(0.05 * strong)
        canvas.light += strokes * np.float32(0.12 * strong)


def outline(canvas: Canvas, periodic: bool) -> None:
    """--niji: dark ink lines where painted shapes meet (a jump in ``t``), as in cel animation.

    The ink goes on the lower-``t`` side of each jump, so small bright marks (lit windows)
    keep their colour inside it. Lines are about 1/400 of the picture thick; ``periodic``
    wraps them across the edges (tile).
    """
    t = canvas.t
    edge: Mask = np.zeros(t.shape, bool)
    for axis in (0, 1):
        after = np.take(t, [0 if periodic else -1], axis=axis)
        step = np.diff(t, axis=axis, append=after)  # t of the next pixel minus this one's
        edge |= step > 0.05
        edge |= np.roll(step < -0.05, 1, axis=axis)
    for _ in range(max(0, round(min(t.shape) / 400) - 1)):
        edge[:, 1:] |= edge[:, :-1]
        edge[1:] |= edge[:-1]
    canvas.light[edge] = 0.03
