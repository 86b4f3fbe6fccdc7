"""The embedded default engine: offline abstract paintings from numpy noise, no model weights.

``engine`` (the Engine calls), ``recipe`` (what a picture is made of), ``fields`` (the seeded
world), ``scenes`` (compositions), ``palette`` (colours from prompt words), ``references``
(image guidance).
"""

from __future__ import annotations

from selfjourney.engines.procedural.engine import ProceduralEngine, add_detail
from selfjourney.engines.procedural.recipe import Recipe, base_window, render

__all__ = ["ProceduralEngine", "Recipe", "add_detail", "base_window", "render"]
