"""A quicker engine for tests that check the API rather than the pictures' size."""

from __future__ import annotations

from dataclasses import replace

from selfjourney.engines.base import Picture, ProgressFn, Spec
from selfjourney.engines.procedural import ProceduralEngine

#: Grid images are drawn this many times smaller on each side (same aspect ratio).
SHRINK = 4


class SmallEngine(ProceduralEngine):
    """The procedural engine, drawing new grids at a quarter of the side (16x fewer pixels).

    Follow-ups start from those small pictures, so every job of a test stays small.
    """

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        small = replace(spec, width=spec.width // SHRINK, height=spec.height // SHRINK)
        return super().generate(small, count, progress)
