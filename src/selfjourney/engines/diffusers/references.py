"""How reference images (midapi ``fileUrls``) steer a diffusers render, without extra weights.

- "image": the reference, cropped to the picture's shape, is the start of an image-to-image
  render; the weight (0..1) sets how much of it survives (strength ``1 - 0.5 * weight``).
- "omni": no subject-identity model is available offline (IP-Adapter weights live on the hub),
  so the subject's reference is a looser start image (strength ``1 - 0.3 * weight``): its
  shapes and colours carry over, its identity is not guaranteed.
- "style": the picture's colours are moved towards the reference's (each channel's mean and
  spread matched), in proportion to the weight; the layout is the prompt's own.

Pure PIL and numpy; the engine decides when to call these.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

from selfjourney.engines.base import Reference

#: How much of the start image each weight-1 reference keeps (1 - the img2img strength).
HOLD = {"image": 0.5, "omni": 0.3}


def start_image(
    references: tuple[Reference, ...], size: tuple[int, int]
) -> tuple[Image.Image, float] | None:
    """The first image or omni reference as a start picture of ``size``, and its strength.

    None when there is none (or its weight is 0): the render starts from noise.
    """
    for reference in references:
        if reference.mode in HOLD and reference.weight > 0:
            start = ImageOps.fit(reference.image.convert("RGB"), size, Image.Resampling.LANCZOS)
            return start, 1.0 - HOLD[reference.mode] * min(1.0, reference.weight)
    return None


def match_style(image: Image.Image, references: tuple[Reference, ...]) -> Image.Image:
    """The picture with its colour statistics moved towards the style references'."""
    styles = [r for r in references if r.mode == "style" and r.weight > 0]
    if not styles:
        return image
    pixels = np.asarray(image.convert("RGB"), np.float32)
    mean, spread = pixels.mean(axis=(0, 1)), pixels.std(axis=(0, 1)) + 1e-3
    for style in styles:
        ref = np.asarray(style.image.convert("RGB"), np.float32)
        ref_mean, ref_spread = ref.mean(axis=(0, 1)), ref.std(axis=(0, 1))
        matched = (pixels - mean) / spread * ref_spread + ref_mean
        weight = min(1.0, style.weight)
        pixels = pixels * (1 - weight) + matched * weight
        mean, spread = pixels.mean(axis=(0, 1)), pixels.std(axis=(0, 1)) + 1e-3
    return Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), "RGB")
