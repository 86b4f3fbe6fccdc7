"""The engine seam: pure functions from (spec, source pixels, seed) to pictures.

An engine never touches the store, the queue or HTTP. Same inputs and seed give the
same pixels. Every call reports progress through a callback taking a fraction 0..1.

Errors: an engine asks for the job to run again later only by raising ``Retry``; any other
exception fails the job (with a refund), ``MemoryError`` as "out of memory".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image

#: Called by an engine with the fraction of work done, 0.0 to 1.0, never decreasing.
ProgressFn = Callable[[float], None]


def no_progress(_fraction: float) -> None:
    """A progress callback that ignores every report."""


@dataclass(frozen=True)
class Reference:
    """A caller's image that guides a render (midapi ``fileUrls``).

    ``mode`` is "image" (image-to-image: keep its composition), "style" (take its colours and
    texture, not its layout) or "omni" (put its subject into the new picture); ``weight``
    0..1 says how strongly.
    """

    image: Image.Image
    mode: str = "image"
    weight: float = 0.5


@dataclass(frozen=True)
class Spec:
    """What to draw: the prompt the engine sees (flags already removed), size and parameters.

    The parameters follow Midjourney's prompt flags; their defaults are Midjourney's.

    Usage::

        spec = Spec(prompt="a red fox in snow", seed=42, width=1024, height=1024, chaos=40)
    """

    prompt: str
    seed: int
    width: int
    height: int
    #: --chaos 0..100: how different the four grid images are from each other.
    chaos: int = 0
    #: --stylize 0..1000: how strongly the engine's own style is applied (100 = default).
    stylize: int = 100
    #: --weird 0..3000: how unusual (warped, off-palette) the picture is.
    weird: int = 0
    #: --tile: the picture repeats seamlessly when tiled side by side and top to bottom.
    tile: bool = False
    #: --no a, b: words the picture should avoid (colours, subjects).
    negative: tuple[str, ...] = ()
    #: --niji: the anime-flavoured model (bright, flat colours, clean outlines).
    niji: bool = False
    #: Reference images guiding the render, if any.
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class Picture:
    """One rendered image plus the engine's recipe for it (JSON-safe), kept with the job.

    The recipe lets a follow-up (pan, zoom out, vary) build on the exact picture; an
    engine that gets a picture without a recipe it understands works from the pixels.
    """

    image: Image.Image
    recipe: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Frame:
    """A new canvas placed over a source picture, for pan and zoom out.

    ``box`` is (left, top, right, bottom) in the source's pixel coordinates and may reach
    beyond it; ``size`` is the output size in pixels. Pan right by half the width of a
    1024x1024 source is ``Frame(box=(0, 0, 1536, 1024), size=(1536, 1024))``; zoom out 2x is
    ``Frame(box=(-512, -512, 1536, 1536), size=(1024, 1024))``.
    """

    box: tuple[int, int, int, int]
    size: tuple[int, int]


class Engine(Protocol):
    """Renders pictures. Each call returns ``count`` pictures, deterministic in ``seed``."""

    name: str

    def describe(self) -> str:
        """What renders, in a few words for the start-up banner (e.g. the model and device)."""
        ...

    def load(self) -> None:
        """Get ready now (weights in memory, warmed up): the first job is then not slow, and
        a model that cannot load fails the server's start instead of every job."""
        ...

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        """Draw ``count`` different pictures for the spec (a 2x2 grid asks for 4)."""
        ...

    def vary(
        self, source: Picture, spec: Spec, strength: float, count: int, progress: ProgressFn
    ) -> list[Picture]:
        """Draw pictures related to ``source``; ``strength`` 0..1 says how far they may stray."""
        ...

    def extend(
        self, source: Picture, spec: Spec, frame: Frame, count: int, progress: ProgressFn
    ) -> list[Picture]:
        """Draw the frame: the source's pixels where the frame covers it, new content around."""
        ...

    def inpaint(
        self, source: Picture, spec: Spec, mask: Image.Image, count: int, progress: ProgressFn
    ) -> list[Picture]:
        """Redraw where ``mask`` (mode "L", source size) is white; keep the rest exactly."""
        ...

    def refine(self, source: Picture, spec: Spec, strength: float, progress: ProgressFn) -> Picture:
        """Add fine detail to an enlarged picture (a creative upscale), at its own size.

        Layout and colours stay; ``strength`` 0..1 says how much may be redrawn.
        """
        ...


class EngineError(Exception):
    """Base of the errors an engine raises on purpose."""


class Retry(EngineError):
    """The job should run again after ``defer`` seconds (a device busy, a model warming up)."""

    def __init__(self, message: str = "retry requested", defer: float = 0.0) -> None:
        super().__init__(message)
        self.defer = defer
