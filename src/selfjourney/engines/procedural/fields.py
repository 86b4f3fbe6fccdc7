"""The procedural engine's pure numpy fields: seeded noise over world coordinates, and the
geometry applied to painted canvases (--weird's warp, --tile's seamless wrap).

Noise is cubic B-spline value noise on hashed integer lattices. It is separable, so a whole
field is two small matrix products, and a pixel depends only on its world position: a wider
window of the same world continues the picture seamlessly (pan, zoom out). The compositions
painted from these fields live in ``scenes``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from selfjourney.engines.procedural.palette import F32, Box, Canvas

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
    them in away from a rectangle (extend), so the same world stays intact inside it. With a
    ``period`` (world width, height), every noise field repeats with it (--tile): each octave's
    lattice is rounded to a whole number of cells per period and its indices wrap.
    """

    def __init__(
        self,
        window: Window,
        size: tuple[int, int],
        seed: int,
        drifts: Sequence[tuple[int, float]] = (),
        patches: Sequence[Patch] = (),
        period: tuple[float, float] | None = None,
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
        self.period = period
        self._patches = [(p.seed, *self._rotation(p)) for p in patches]
        self._patches = [p for p in self._patches if p[2].max() > 0]

    def reach(self, patch: Patch) -> F32:
        """How far each pixel is into the patch: 0 inside its rectangle, 1 a ramp beyond it."""
        u0, v0, u1, v1 = patch.rect
        du = np.maximum(np.maximum(u0 - self.u, self.u - u1), 0)[None, :]
        dv = np.maximum(np.maximum(v0 - self.v, self.v - v1), 0)[:, None]
        w = np.clip(np.sqrt(du * du + dv * dv) / patch.ramp, 0, 1).astype(np.float32)
        out: F32 = w * w * (3 - 2 * w)
        return out

    def _rotation(self, patch: Patch) -> tuple[F32, F32]:
        angle = self.reach(patch) * np.float32(_PATCH_ANGLE)
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
            (su, nu), (sv, nv) = self._cells_per_period(su, sv)
            mu, lu = _bspline(u, su) if fu else (np.ones((u.size, 1), np.float32), 0)
            mv, lv = _bspline(v, sv) if fv else (np.ones((v.size, 1), np.float32), 0)
            iu = np.arange(lu, lu + mu.shape[1], dtype=np.int64)[None, :]
            iv = np.arange(lv, lv + mv.shape[1], dtype=np.int64)[:, None]
            if nu:
                iu %= nu
            if nv:
                iv %= nv
            grid = self._lattice(seed, drifts, key, k, iu, iv)
            left.append(product(mv, grid) * amp)
            right.append(mu.T)
        return product(np.hstack(left), np.vstack(right))

    def _cells_per_period(
        self, su: float, sv: float
    ) -> tuple[tuple[float, int], tuple[float, int]]:
        """Frequencies rounded to whole cells per period, and those cell counts (0: no wrap)."""
        if self.period is None:
            return (su, 0), (sv, 0)
        return _whole_cells(su, self.period[0]), _whole_cells(sv, self.period[1])

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


def _whole_cells(freq: float, length: float) -> tuple[float, int]:
    if not freq:
        return 0.0, 0
    cells = max(1, round(freq * length))
    return cells / length, cells


def product(a: F32, b: F32) -> F32:
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


def margin_for(reach: float, pixel: float) -> int:
    """Pixels to paint beyond each edge so a warp by ``reach`` world units stays inside.

    Noise seldom passes 0.65 of its range (about 2 sigma); the few border pixels pulled
    further clamp at the margin's edge, a cost of a third less painting.
    """
    return math.ceil(0.65 * reach / pixel) + 1


def expand(window: Window, size: tuple[int, int], margin: int) -> tuple[Window, tuple[int, int]]:
    """The window and size grown by ``margin`` pixels on every side, pixels kept the same size."""
    u0, v0, u1, v1 = window
    du, dv = margin * (u1 - u0) / size[0], margin * (v1 - v0) / size[1]
    return (u0 - du, v0 - dv, u1 + du, v1 + dv), (size[0] + 2 * margin, size[1] + 2 * margin)


def warp(canvas: Canvas, s: Sampler, reach: float, margin: int) -> Canvas:
    """Pull every pixel of ``s``'s grid from a displaced world point (--weird).

    ``canvas`` was painted ``margin`` pixels wider on every side, so the displacement never
    leaves it and a pixel still depends only on its world position: pans stay seamless.
    """
    height, width = s.shape
    outer = width + 2 * margin
    du = s.noise("weird_u", 2.2, 2.2, 3) * np.float32(reach / s.pu)
    dv = s.noise("weird_v", 2.2, 2.2, 3) * np.float32(reach / s.pv)
    du += (np.arange(width, dtype=np.float32) + np.float32(margin + 0.5))[None, :]
    dv += (np.arange(height, dtype=np.float32) + np.float32(margin + 0.5))[:, None]
    np.clip(du, 0, outer - 1, out=du)
    np.clip(dv, 0, height + 2 * margin - 1, out=dv)
    index = dv.astype(np.int32) * np.int32(outer)  # fits: a canvas has far under 2**31 pixels
    index += du.astype(np.int32)
    t, light = canvas.t.ravel().take(index), canvas.light.ravel().take(index)
    return Canvas(s.shape, t, light)


def seam_cut(canvas: Canvas, s: Sampler, tile: tuple[int, int]) -> Canvas:
    """Fold a canvas painted a band wider and taller than ``tile`` into a tile that wraps (--tile).

    The band beyond the right (bottom) edge replaces the start of the left (top) edge up to a
    ragged seeded line, so the last column runs on into the first exactly as any two
    neighbouring columns do; the periodic noise makes most of the cut invisible.
    """
    tw, th = tile
    t, light = canvas.t, canvas.light
    bw, bh = t.shape[1] - tw, t.shape[0] - th
    if bw:
        cut = np.maximum(bw * (0.5 + 0.3 * s.noise("seam_u", 0, 6, 3)), 1)
        take = (np.arange(bw, dtype=np.float32) + 0.5)[None, :] < cut
        for f in (t, light):
            np.copyto(f[:, :bw], f[:, tw:], where=take)
    if bh:
        cut = np.maximum(bh * (0.5 + 0.3 * s.noise("seam_v", 6, 0, 3)[:, :tw]), 1)
        take = (np.arange(bh, dtype=np.float32) + 0.5)[:, None] < cut
        for f in (t, light):
            np.copyto(f[:bh, :tw], f[th:, :tw], where=take)
    return Canvas((th, tw), t[:th, :tw], light[:th, :tw])


def wrap(tile: Canvas, s: Sampler, origin: tuple[float, float]) -> Canvas:
    """The periodic world on ``s``'s grid, read from one tile whose corner is at ``origin``."""
    assert s.period is not None, "wrap needs a sampler with a period"
    th, tw = tile.t.shape
    cols = np.minimum(((s.u - origin[0]) / s.period[0] % 1.0 * tw).astype(np.intp), tw - 1)
    rows = np.minimum(((s.v - origin[1]) / s.period[1] % 1.0 * th).astype(np.intp), th - 1)
    t = tile.t.take(rows, axis=0).take(cols, axis=1)
    light = tile.light.take(rows, axis=0).take(cols, axis=1)
    return Canvas(s.shape, t, light)


def cut_in(canvas: Canvas, other: Canvas, weight: F32, s: Sampler) -> None:
    """Paint ``other`` over ``canvas`` where ``weight`` (0..1) passes a ragged seeded line."""
    take = weight + np.float32(0.25) * s.noise("cut_in", 3.0, 3.0, 3) > 0.5
    np.copyto(canvas.t, other.t, where=take)
    np.copyto(canvas.light, other.light, where=take)
