"""What each job kind asks of the engine, and the 2x2 grid composite."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

from selfjourney.core.jobs import Direction, Job, JobKind
from selfjourney.core.rules import pan_frame, zoom_frame
from selfjourney.core.sizes import grid_image_size
from selfjourney.engines.base import Engine, Frame, Picture, ProgressFn, Reference, Spec

GRID_COUNT = 4
#: How far a variation strays from its source (0..1), by the job's ``strength`` param.
#: None is the ordinary V1-V4 button, kept at the 0.6 it has always rendered with. "subtle"
#: (Vary (Subtle)) at 0.35 keeps the composition and changes details; "strong" (Vary (Strong))
#: at 0.75 re-draws most of it. Both stay clear of 0.6 by enough that the procedural engine's
#: re-seeded noise visibly differs, and strong stops short of 1, a brand-new picture.
VARIATION_STRAY: dict[str | None, float] = {None: 0.6, "subtle": 0.35, "strong": 0.75}


def spec_for(job: Job, width: int, height: int, references: tuple[Reference, ...] = ()) -> Spec:
    """The engine's view of a job: its prompt, seed, size and render parameters."""
    params = job.params
    return Spec(
        prompt=job.prompt,
        seed=job.seed,
        width=width,
        height=height,
        chaos=int(params.get("chaos", 0)),
        stylize=int(params.get("stylize", 100)),
        weird=int(params.get("weird", 0)),
        tile=bool(params.get("tile", False)),
        negative=tuple(params.get("negative", ())),
        niji=bool(params.get("niji", False)),
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


def grid_kind(job: Job) -> JobKind:
    """What a grid job renders as: a reroll renders as the job it repeats."""
    return JobKind(job.params.get("of", "imagine")) if job.kind is JobKind.REROLL else job.kind


def render_grid(
    job: Job,
    engine: Engine,
    source: Picture | None,
    mask: Image.Image | None,
    progress: ProgressFn,
    references: tuple[Reference, ...] = (),
) -> list[Picture]:
    """The four pictures of a grid job; ``source`` is the parent picture for actions."""
    kind = grid_kind(job)
    if kind is JobKind.IMAGINE:
        width, height = grid_image_size(job.params.get("aspect_ratio", "1:1"))
        spec = spec_for(job, width, height, references)
        return engine.generate(spec, GRID_COUNT, progress)
    assert source is not None, f"{kind} needs a source picture"
    width, height = source.image.size
    spec = spec_for(job, width, height)
    if kind is JobKind.VARIATION:
        strength = VARIATION_STRAY[job.params.get("strength")]
        return engine.vary(source, spec, strength, GRID_COUNT, progress)
    if kind is JobKind.INPAINT:
        assert mask is not None, "inpaint needs its mask"
        return engine.inpaint(source, spec, mask, GRID_COUNT, progress)
    if kind is JobKind.PAN:
        box, size = pan_frame(width, height, Direction(job.params["direction"]))
    elif kind is JobKind.OUTPAINT:
        ratio, shape = float(job.params["zoom_ratio"]), job.params.get("aspect_ratio")
        box, size = zoom_frame(width, height, ratio, shape)
    else:
        raise ValueError(f"{kind} does not render a grid")
    spec = spec_for(job, size[0], size[1])
    return engine.extend(source, spec, Frame(box=box, size=size), GRID_COUNT, progress)


def compose_grid(images: list[Image.Image]) -> Image.Image:
    """The 2x2 composite at full resolution: image 1 top left, 2 top right, 3, 4 below."""
    width, height = images[0].size
    grid = Image.new("RGB", (width * 2, height * 2))
    for n, image in enumerate(images):
        grid.paste(image, ((n % 2) * width, (n // 2) * height))
    return grid


#: How much of an enlarged picture a creative upscale may redraw (0..1): light, so the
#: layout and colours stay and only fine detail is added.
CREATIVE_STRENGTH = 0.3


def refine_upscale(job: Job, engine: Engine, picture: Picture, progress: ProgressFn) -> Picture:
    """The creative upscale's detail pass, by the job's engine, at the picture's size."""
    spec = spec_for(job, picture.image.width, picture.image.height)
    return engine.refine(picture, spec, CREATIVE_STRENGTH, progress)
