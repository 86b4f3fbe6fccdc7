"""A quick engine for the dialect's tests: tiny grids, and renders that can be made to fail."""

from __future__ import annotations

from dataclasses import replace

from selfjourney.engines.base import Picture, ProgressFn, Spec
from selfjourney.engines.procedural import ProceduralEngine

#: A prompt containing this word fails its render.
EXPLODE = "explode"
#: Grid images are drawn this many times smaller on each side (1:1 is 128x128).
SHRINK = 8


class TinyEngine(ProceduralEngine):
    """The procedural engine drawing new grids at an eighth of the side; follow-ups start
    from those pictures, so every job stays tiny. A grid whose prompt says "explode" fails."""

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        if EXPLODE in spec.prompt:
            raise RuntimeError("the engine exploded")
        small = replace(spec, width=spec.width // SHRINK, height=spec.height // SHRINK)
        return super().generate(small, count, progress)
