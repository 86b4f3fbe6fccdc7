"""A job's pixel work: what each kind asks of the engine or the upscaler, and its stored images.

Output keys are deterministic (``images/{job_id}-{n}.png``, ``-grid.png``): a job rendered
twice (a worker died, the job was claimed again) overwrites its images, never duplicates them.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
from PIL import Image, ImageOps

from selfjourney.domain.errors import InvalidInput
from selfjourney.domain.jobs import Job, Result
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import GRID_COUNT, References, Source
from selfjourney.domain.rules import check_upscale_image
from selfjourney.domain.sizes import grid_image_size, pan_frame, zoom_frame
from selfjourney.engines.base import Engine, Frame, Picture, ProgressFn, Reference, Spec
from selfjourney.engines.upscale import Upscaler
from selfjourney.imaging.inputs import SizeCheck
from selfjourney.outbound.fetch import FetchError
from selfjourney.storage.base import Storage
from selfjourney.worker.watermark import apply_watermark

#: How far a variation strays from its source (0..1), by the job's ``strength`` param.
#: None is the ordinary V1-V4 button, kept at the 0.6 it has always rendered with. "subtle"
#: (Vary (Subtle)) at 0.35 keeps the composition and changes details; "strong" (Vary (Strong))
#: at 0.75 re-draws most of it. Both stay clear of 0.6 by enough that the procedural engine's
#: re-seeded noise visibly differs, and strong stops short of 1, a brand-new picture.
VARIATION_STRAY: dict[str | None, float] = {None: 0.6, "subtle": 0.35, "strong": 0.75}
#: How much of an enlarged picture a creative upscale may redraw (0..1): light, so the
#: layout and colours stay and only fine detail is added.
CREATIVE_STRENGTH = 0.3

#: References guide a picture of about a megapixel: more pixels add nothing but memory, so
#: each is shrunk to this many pixels a side as it is decoded.
REFERENCE_SIDE = 1024
#: The engine of a job's model, by model name (None: the default model).
EngineFor = Callable[[str | None], Engine]


class Fetch(Protocol):
    """Downloads a caller's image by URL (``outbound.fetch.fetch_image`` on a guarded client);
    raises FetchError, or what ``check`` raises on the declared size."""

    def __call__(
        self, url: str, *, check: SizeCheck | None = None, fit: int | None = None
    ) -> Image.Image: ...


class SourceImageError(Exception):
    """A caller's image that cannot be upscaled; the message is the job's error as it is."""


def image_key(job_id: str, n: int) -> str:
    return f"images/{job_id}-{n}.png"


def grid_key(job_id: str) -> str:
    return f"images/{job_id}-grid.png"


class Progress:
    """Where a render is: ``engine(f)`` for the engine's share (5-90 %), ``at(f)`` overall."""

    def __init__(self, report: Callable[[float], None]) -> None:
        self._report = report

    def __call__(self, fraction: float) -> None:
        self.engine(fraction)

    def engine(self, fraction: float) -> None:
        self.at(0.05 + 0.85 * max(0.0, min(1.0, fraction)))

    def at(self, fraction: float) -> None:
        self._report(fraction)


class Renderer:
    """Turns a claimed job into stored images and its Result; raises on any failure.

    Usage::

        renderer = Renderer(storage=storage, engine=ProceduralEngine(), upscaler=Lanczos())
        result = renderer.produce(job, mask=None, progress=Progress(print))
    """

    def __init__(
        self,
        *,
        storage: Storage,
        upscaler: Upscaler,
        engine: Engine | None = None,
        fetch: Fetch | None = None,
        png_compress_level: int = 1,
        render_delay: float = 0.0,
        engines: EngineFor | None = None,
    ) -> None:
        self.storage = storage
        #: The default model's engine; ``engines`` (when given) picks one by the job's model.
        self.engine = engine
        self._engines = engines
        #: Made once per process (it holds the loaded network).
        self.upscaler = upscaler
        self._fetch = fetch
        self._png_level = png_compress_level
        self._render_delay = render_delay

    def produce(self, job: Job, mask: bytes | None, progress: Progress) -> Result:
        if job.kind is JobKind.UPSAMPLE:
            return self.upsample(job)
        if job.kind is JobKind.UPSCALE:
            return self._upscale(job, self.engine_for(job), progress)
        references = self._references(job)
        source = self._source(job.params.source)
        engine = self.engine_for(job)
        pictures = self._render_grid(job, engine, source, _open_mask(mask), progress, references)
        self._delay(progress)
        return self._store_grid(job, pictures, progress)

    def engine_for(self, job: Job) -> Engine:
        """The engine of the job's model (``render_model``; None is the default's)."""
        if self._engines is not None:
            return self._engines(job.render_model)
        assert self.engine is not None, "a Renderer needs an engine or engines"
        return self.engine

    def upsample(self, job: Job) -> Result:
        """U1-U4: the grid image itself, byte for byte, as a standalone image."""
        source = job.params.source
        assert source is not None, "an upsample starts from a grid image"
        key = image_key(job.id, 1)
        if job.params.watermark:
            image = _open_png(self.storage.get(source.key))
            self.storage.put(key, self._png(self._marked(job, image)))
        else:
            self.storage.copy(source.key, key)
        return Result([key], None, source.width, source.height, [source.recipe])

    def _render_grid(
        self,
        job: Job,
        engine: Engine,
        source: Picture | None,
        mask: Image.Image | None,
        progress: ProgressFn,
        references: tuple[Reference, ...],
    ) -> list[Picture]:
        """The four pictures of a grid job; ``source`` is the parent picture for actions."""
        kind, params = job.renders_as, job.params
        if kind is JobKind.IMAGINE:
            width, height = grid_image_size(params.flags.aspect_ratio or "1:1")
            return engine.generate(spec_for(job, width, height, references), GRID_COUNT, progress)
        assert source is not None, f"{kind} needs a source picture"
        width, height = source.image.size
        spec = spec_for(job, width, height)
        if kind is JobKind.VARIATION:
            strength = VARIATION_STRAY[params.action.strength]
            return engine.vary(source, spec, strength, GRID_COUNT, progress)
        if kind is JobKind.INPAINT:
            assert mask is not None, "inpaint needs its mask"
            return engine.inpaint(source, spec, mask, GRID_COUNT, progress)
        if kind is JobKind.PAN:
            assert params.action.direction is not None, "pan needs a direction"
            box, size = pan_frame(width, height, params.action.direction)
        elif kind is JobKind.OUTPAINT:
            assert params.action.zoom_ratio is not None, "zoom out needs a ratio"
            box, size = zoom_frame(width, height, params.action.zoom_ratio, params.action.shape)
        else:
            raise ValueError(f"{kind} does not render a grid")
        spec = spec_for(job, size[0], size[1])
        return engine.extend(source, spec, Frame(box=box, size=size), GRID_COUNT, progress)

    def _upscale(self, job: Job, engine: Engine, progress: Progress) -> Result:
        """2x or 4x: super-resolution, then the engine's detail pass if creative."""
        action = job.params.action
        assert action.factor is not None, "an upscale has a factor"
        image = self._upscale_source(job)
        progress.engine(0.1)
        image = self.upscaler.upscale(image, action.factor)
        progress.engine(0.5)
        if action.mode == "creative":
            recipe = job.params.source.recipe if job.params.source else {}
            spec = spec_for(job, image.width, image.height)
            detail = engine.refine(
                Picture(image, recipe), spec, CREATIVE_STRENGTH, lambda f: progress(0.5 + f / 2)
            )
            image = detail.image
        image = self._marked(job, image)
        self.storage.put(image_key(job.id, 1), self._png(image))
        recipe = {"upscale": {"factor": action.factor, "mode": action.mode}}
        return Result([image_key(job.id, 1)], None, image.width, image.height, [recipe])

    def _upscale_source(self, job: Job) -> Image.Image:
        """The picture to upscale: the parent's, or the caller's ``image_url`` (checked now)."""
        url, factor = job.params.image_url, job.params.action.factor or 2
        if url is None:
            assert job.params.source is not None, "an upscale has a parent picture or a URL"
            return _open_png(self.storage.get(job.params.source.key))
        try:
            image = self._download(url, check=lambda size: check_upscale_image(*size, factor))
        except (FetchError, InvalidInput) as exc:
            raise SourceImageError(f"image_url unusable: {exc}") from None
        return image

    def _references(self, job: Job) -> tuple[Reference, ...]:
        """The caller's reference images, downloaded now (a failure fails the job)."""
        wanted: References | None = job.params.references
        if wanted is None:
            return ()
        images = [self._download(url, fit=REFERENCE_SIDE) for url in wanted.urls]
        images += [_open_png(self.storage.get(key)) for key in wanted.keys]  # sent inline
        if wanted.mode == "blend":
            size = grid_image_size(job.params.flags.aspect_ratio or "1:1")
            return blend_references(images, size)
        return tuple(Reference(image, wanted.mode, wanted.weight) for image in images)

    def _download(
        self, url: str, *, check: SizeCheck | None = None, fit: int | None = None
    ) -> Image.Image:
        if self._fetch is None:
            raise FetchError("this server cannot download images")
        return self._fetch(url, check=check, fit=fit)

    def _source(self, source: Source | None) -> Picture | None:
        """The parent picture recorded when the action was accepted."""
        if source is None:
            return None
        return Picture(_open_png(self.storage.get(source.key)), source.recipe)

    def _store_grid(self, job: Job, pictures: list[Picture], progress: Progress) -> Result:
        keys = []
        images = [self._marked(job, picture.image) for picture in pictures]
        for n, image in enumerate(images, start=1):
            keys.append(image_key(job.id, n))
            self.storage.put(keys[-1], self._png(image))
            progress.at(0.9 + 0.02 * n)
        self.storage.put(grid_key(job.id), self._png(compose_grid(images)))
        width, height = pictures[0].image.size
        return Result(keys, grid_key(job.id), width, height, [p.recipe for p in pictures])

    def _marked(self, job: Job, image: Image.Image) -> Image.Image:
        text = job.params.watermark
        return apply_watermark(image, text) if text else image

    def _png(self, image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=self._png_level)
        return out.getvalue()

    def _delay(self, progress: Progress) -> None:
        """The configured pretend-GPU time, spread over a few progress steps."""
        if self._render_delay <= 0:
            return
        for step in range(1, 5):
            time.sleep(self._render_delay / 4)
            progress.engine(step / 4)


def spec_for(job: Job, width: int, height: int, references: tuple[Reference, ...] = ()) -> Spec:
    """The engine's view of a job: its prompt, seed, size and render flags."""
    flags = job.params.flags
    return Spec(
        prompt=job.prompt,
        seed=job.seed,
        width=width,
        height=height,
        chaos=flags.chaos or 0,
        stylize=100 if flags.stylize is None else flags.stylize,
        weird=flags.weird or 0,
        tile=bool(flags.tile),
        negative=flags.negative or (),
        niji=bool(flags.niji),
        references=references,
    )


def blend_references(images: list[Image.Image], size: tuple[int, int]) -> tuple[Reference, ...]:
    """What a /blend asks of the engine: the images' average, fitted to the picture, as its
    layout ("image" at 0.7), and each image's colours as a style, the weight shared."""
    fitted = [
        np.asarray(ImageOps.fit(image.convert("RGB"), size, Image.Resampling.BILINEAR), np.float32)
        for image in images
    ]
    mean = Image.fromarray(np.clip(sum(fitted) / len(fitted) + 0.5, 0, 255).astype(np.uint8))
    styles = tuple(Reference(image, "style", 1 / len(images)) for image in images)
    return (Reference(mean, "image", 0.7), *styles)


def compose_grid(images: list[Image.Image]) -> Image.Image:
    """The 2x2 composite at full resolution: image 1 top left, 2 top right, 3, 4 below."""
    width, height = images[0].size
    grid = Image.new("RGB", (width * 2, height * 2))
    for n, image in enumerate(images):
        grid.paste(image, ((n % 2) * width, (n // 2) * height))
    return grid


def _open_png(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def _open_mask(data: bytes | None) -> Image.Image | None:
    if data is None:
        return None
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("L")
