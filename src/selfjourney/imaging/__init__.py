"""Image inputs from callers, read safely: the declared size is checked before any pixel is
decoded, with one limit for every input (masks, reference images, images to upscale)."""
