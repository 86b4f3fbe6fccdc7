"""Real pictures from any Hugging Face diffusers pipeline: ``engine`` (the Engine calls, sizes,
tiling) and ``references`` (reference images without extra weights).

Importing this package imports torch and diffusers; the embedded default never does.
"""

from __future__ import annotations

from selfjourney.engines.diffusers.engine import DiffusersEngine

__all__ = ["DiffusersEngine"]
