"""Pixel comparisons the procedural engine tests share."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

Pixels = npt.NDArray[np.int32]


def pixels(image: Image.Image) -> Pixels:
    return np.asarray(image.convert("RGB"), dtype=np.int32)


def diff(a: Image.Image | Pixels, b: Image.Image | Pixels) -> float:
    """Mean absolute difference per channel, 0..255."""
    pa = a if isinstance(a, np.ndarray) else pixels(a)
    pb = b if isinstance(b, np.ndarray) else pixels(b)
    return float(np.abs(pa - pb).mean())
