"""The procedural engine's pure numpy fields: seeded noise over world coordinates, and the
compositions (landscape, city, ocean...) painted from it onto a ``Canvas``.

Noise is cubic B-spline value noise on hashed integer lattices. It is separable, so a whole
field is two small matrix products, and a pixel depends only on its world position: a wider
window of the same world continues the picture seamlessly (pan, zoom out).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from selfjourney.engines.palette import (
    ACCENT,
    DEEP,
    F32,
    GLOW,
    LAND,
    SKY,
    Box,
    Canvas,
    Mask,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

Window = tuple[float, float, float, float]

_MASK = (1 << 64) - 1
_NORM = 0.9  # brings B-spline value-noise fbm to about [-1, 1] (std ~0.3)
_MIN_CELL_PX = 3.0  # octaves finer than this many pixels per cell are dropped (band limit)
_PATCH_ANGLE = math.pi / 2 * 0.9
_BLAS_SERIAL = 65536 * 4  # OpenBLAS keeps a GEMM of at most m*n*k this big on one thread


def mix64(*parts: int) -> int:
    """Hash integers into a 64-bit value (splitmix64), stable across processes and machines."""
    h = 0x243F6A8885A308D3
    for part in parts:
        h = (h ^ (part & _MASK)) * 0x9E3779B97F4A7C15 & _MASK
        h ^= h >> 31
        h = h * 0xBF58476D1CE4E5B9 & _MASK
        h ^= h >> 29
    return h


def key_id(key: str) -> int:
    """A stable integer for a field name, so each named field gets its own noise."""
    return zlib.crc32(key.encode())


def unit(*parts: int) -> float:
    """A deterministic float in [0, 1) from integers."""
    return (mix64(*parts) >> 11) / float(1 << 53)


def _hash_grid(salt: int, ix: I64, iy: I64) -> F32:
    """Lattice values in [-1, 1) for integer coordinates (broadcast together)."""
    h = ix.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h = h ^ (iy.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F) + np.uint64(salt))
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return ((h >> np.uint64(40)).astype(np.float32) * np.float32(2.0**-23)) - np.float32(1.0)


def cell_rand(salt: int, index: I64) -> F32:
    """One random value in [0, 1) per integer cell index, for discrete features."""
    return (_hash_grid(salt, index, np.zeros_like(index)) + 1) * np.float32(0.5)


def _bspline(x: F64, freq: float) -> tuple[F32, int]:
    """Interpolation matrix (len(x), L) from lattice values to samples, and the first index."""
    s = x * freq
    fl = np.floor(s)
    t = (s - fl).astype(np.float32)
    i = fl.astype(np.int64)
    lo = int(i.min()) - 1
    m = np.zeros((x.size, int(i.max()) - lo + 3), np.float32)
    rows = np.arange(x.size)
    col = i - lo - 1
    t2 = t * t
    t3 = t2 * t
    m[rows, col] = (1 - t) ** 3 / 6
    m[rows, col + 1] = (3 * t3 - 6 * t2 + 4) / 6
    m[rows, col + 2] = (-3 * t3 + 3 * t2 + 3 * t + 1) / 6
    m[rows, col + 3] = t3 / 6
    return m, lo


@dataclass(frozen=True)
class Patch:
    """A candidate-specific change of every field, growing from zero at ``rect``'s edge."""

    seed: int
    rect: Window
    ramp: float


class Sampler:
    """Evaluates named noise fields of one seeded world on one pixel grid.

    ``drifts`` (seed, strength) blend in other lattices everywhere (vary); ``patches`` blend
    them in away from a rectangle (extend), so the same world stays intact inside it.
    """

    def __init__(
        self,
        window: Window,
        size: tuple[int, int],
        seed: int,
        drifts: Sequence[tuple[int, float]] = (),
        patches: Sequence[Patch] = (),
    ) -> None:
        u0, v0, u1, v1 = window
        width, height = size
        self.pu = (u1 - u0) / width
        self.pv = (v1 - v0) / height
        self.u: F64 = np.asarray(u0 + (np.arange(width) + 0.5) * self.pu, np.float64)
        self.v: F64 = np.asarray(v0 + (np.arange(height) + 0.5) * self.pv, np.float64)
        self.cols: F32 = self.u.astype(np.float32)[None, :]  # world u per pixel column, (1, W)
        self.rows: F32 = self.v.astype(np.float32)[:, None]  # world v per pixel row, (H, 1)
        self.shape = (height, width)
        self.px = max(self.pu, self.pv)  # world size of a pixel, for thin features
        self.seed = seed
        self.drifts = tuple(drifts)
        self._patches = [(p.seed, *self._rotation(p)) for p in patches]
        self._patches = [p for p in self._patches if p[2].max() > 0]

    def _rotation(self, patch: Patch) -> tuple[F32, F32]:
        u0, v0, u1, v1 = patch.rect
        du = np.maximum(np.maximum(u0 - self.u, self.u - u1), 0)[None, :]
        dv = np.maximum(np.maximum(v0 - self.v, self.v - v1), 0)[:, None]
        w = np.clip(np.sqrt(du * du + dv * dv) / patch.ramp, 0, 1).astype(np.float32)
        angle = w * w * (3 - 2 * w) * np.float32(_PATCH_ANGLE)
        return np.cos(angle), np.sin(angle)

    def noise(
        self,
        key: str,
        fu: float,
        fv: float,
        octaves: int = 4,
        u: F64 | None = None,
        v: F64 | None = None,
    ) -> F32:
        """Fractal noise about [-1, 1]: (1, W) if ``fv`` is 0, (H, 1) if ``fu`` is 0, else (H, W).

        ``u``/``v`` replace the pixel coordinates along one axis (perspective, per-cell values).
        """
        uu = (self.u if u is None else u) if fu else self.u[:1]
        vv = (self.v if v is None else v) if fv else self.v[:1]
        if any(o is not None and o.shape != g.shape for o, g in ((u, self.u), (v, self.v))):
            raise ValueError("coordinate overrides need one value per pixel column or row")
        out = self._fbm(self.seed, self.drifts, key_id(key), fu, fv, octaves, uu, vv)
        for seed, cos, sin in self._patches:
            other = self._fbm(seed, (), key_id(key), fu, fv, octaves, uu, vv)
            out = out * cos + other * sin
        return out

    def _fbm(
        self,
        seed: int,
        drifts: tuple[tuple[int, float], ...],
        key: int,
        fu: float,
        fv: float,
        octaves: int,
        u: F64,
        v: F64,
    ) -> F32:
        left: list[F32] = []
        right: list[F32] = []
        for k in range(octaves):
            su, sv = fu * 2**k, fv * 2**k
            if k and max(su * self.pu, sv * self.pv) * _MIN_CELL_PX > 1:
                break
            amp = np.float32(0.5**k / _NORM)
            mu, lu = _bspline(u, su) if fu else (np.ones((u.size, 1), np.float32), 0)
            mv, lv = _bspline(v, sv) if fv else (np.ones((v.size, 1), np.float32), 0)
            iu = np.arange(lu, lu + mu.shape[1], dtype=np.int64)[None, :]
            iv = np.arange(lv, lv + mv.shape[1], dtype=np.int64)[:, None]
            grid = self._lattice(seed, drifts, key, k, iu, iv)
            left.append(_product(mv, grid) * amp)
            right.append(mu.T)
        return _product(np.hstack(left), np.vstack(right))

    @staticmethod
    def _lattice(
        seed: int, drifts: tuple[tuple[int, float], ...], key: int, k: int, iu: I64, iv: I64
    ) -> F32:
        grid = _hash_grid(mix64(seed, key, k), iu, iv)
        for other, strength in drifts:
            angle = strength * math.pi / 2 * min(1.0, 0.45 + 0.2 * k)
            extra = _hash_grid(mix64(other, key, k), iu, iv)
            grid = grid * np.float32(math.cos(angle)) + extra * np.float32(math.sin(angle))
        return grid


def _product(a: F32, b: F32) -> F32:
    """``a @ b`` as one batch of GEMMs small enough for OpenBLAS to run on the calling thread.

    Its helper threads busy-wait after each large call; beside the engine's own render threads
    on two cores they doubled the CPU time of a grid.
    """
    (m, k), n = a.shape, b.shape[1]
    side = max(1, math.isqrt(_BLAS_SERIAL // k))  # square tiles pack least per multiply
    rows, cols = min(m, side), min(n, side)
    a = np.pad(a, ((0, -m % rows), (0, 0)))
    b = np.pad(b, ((0, 0), (0, -n % cols)))
    blocks = b.reshape(k, -1, cols).transpose(1, 0, 2)
    tiles = np.matmul(a.reshape(-1, 1, rows, k), blocks)
    out: F32 = tiles.transpose(0, 2, 1, 3).reshape(a.shape[0], -1)[:m, :n]
    return out


def smoothstep(edge0: float | F32, edge1: float | F32, x: F32) -> F32:
    """Hermite 0..1 ramp from ``edge0`` to ``edge1`` (either order), for soft shading."""
    t = np.subtract(x, edge0, dtype=np.float32)
    t /= np.subtract(edge1, edge0, dtype=np.float32)
    np.clip(t, 0, 1, out=t)
    out = t * t
    t *= -2
    t += 3
    out *= t
    return out


@dataclass(frozen=True)
class Dice:
    """Seeded scalar choices of one picture (horizon, sun place), nudged by each vary drift."""

    seed: int
    drifts: tuple[tuple[int, float], ...] = ()

    def pick(self, key: str, lo: float, hi: float) -> float:
        """A value in [lo, hi], fixed for the seed, moved a little by drifts."""
        x = unit(self.seed, key_id(key))
        for other, strength in self.drifts:
            x += strength * 0.35 * (unit(other, key_id(key)) - 0.5)
        return lo + (hi - lo) * min(max(x, 0.0), 1.0)


def box(s: Sampler, cu: float, cv: float, radius: float) -> tuple[Box, F32, F32]:
    """Pixel box around a world point, with its columns' u and rows' v, to paint locally."""
    cols = slice(*np.searchsorted(s.u, [cu - radius, cu + radius]))
    rows = slice(*np.searchsorted(s.v, [cv - radius, cv + radius]))
    return (rows, cols), s.cols[:, cols], s.rows[rows]


def dots(s: Sampler, key: str, cell: float, density: float) -> tuple[I64, I64, F32]:
    """Star-like points, at most one per world cell: pixel rows, columns and brightness."""
    iu = np.arange(math.floor(s.u[0] / cell), math.floor(s.u[-1] / cell) + 1)[None, :]
    iv = np.arange(math.floor(s.v[0] / cell), math.floor(s.v[-1] / cell) + 1)[:, None]
    salt = mix64(s.seed, key_id(key))
    thin = min(1.0, (cell / s.px / 12) ** 2)  # zoomed far out, keep the sky from turning grey
    lit = _hash_grid(salt, iu, iv) < 2 * density * thin - 1
    ou = (_hash_grid(salt + 1, iu, iv)[lit] + 1.5) * 0.4
    ov = (_hash_grid(salt + 2, iu, iv)[lit] + 1.5) * 0.4
    glow = (_hash_grid(salt + 3, iu, iv)[lit] + 3) * 0.25
    x = ((np.broadcast_to(iu, lit.shape)[lit] + ou) * cell - s.u[0]) / s.pu
    y = ((np.broadcast_to(iv, lit.shape)[lit] + ov) * cell - s.v[0]) / s.pv
    keep = (x >= 0) & (x < s.u.size - 0.5) & (y >= 0) & (y < s.v.size - 0.5)
    return y[keep].round().astype(np.int64), x[keep].round().astype(np.int64), glow[keep]


def _stamp(canvas: Canvas, stars: tuple[I64, I64, F32], where: Mask | None = None) -> None:
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
    _stamp(canvas, dots(s, "stars", 0.03, 0.5))
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
    _stamp(canvas, dots(s, "night", 0.025, 0.35), canvas.t < 0.2)


PAINTERS = {
    f.__name__: f for f in (landscape, mountains, ocean, city, forest, space, bloom, portrait)
}
