"""What each job kind asks of the engine, and the 2x2 grid composite."""

from __future__ import annotations

from PIL import Image

from selfjourney.core.jobs import Direction, Job, JobKind
from selfjourney.core.rules import grid_image_size, pan_frame, zoom_frame
from selfjourney.engines.base import Engine, Frame, Picture, ProgressFn, Spec

GRID_COUNT = 4
#: How far a V1-V4 variation strays from its source (0..1).
VARIATION_STRENGTH = 0.6


def render_grid(
    job: Job, engine: Engine, source: Picture | None, mask: Image.Image | None, progress: ProgressFn
) -> list[Picture]:
    """The four pictures of a grid job; ``source`` is the parent picture for actions."""
    if job.kind is JobKind.IMAGINE:
        width, height = grid_image_size(job.params.get("aspect_ratio", "1:1"))
        return engine.generate(Spec(job.prompt, job.seed, width, height), GRID_COUNT, progress)
    assert source is not None, f"{job.kind} needs a source picture"
    width, height = source.image.size
    spec = Spec(job.prompt, job.seed, width, height)
    if job.kind is JobKind.VARIATION:
        return engine.vary(source, spec, VARIATION_STRENGTH, GRID_COUNT, progress)
    if job.kind is JobKind.INPAINT:
        assert mask is not None, "inpaint needs its mask"
        return engine.inpaint(source, spec, mask, GRID_COUNT, progress)
    if job.kind is JobKind.PAN:
        box, size = pan_frame(width, height, Direction(job.params["direction"]))
    elif job.kind is JobKind.OUTPAINT:
        box, size = zoom_frame(width, height, float(job.params["zoom_ratio"]))
    else:
        raise ValueError(f"{job.kind} does not render a grid")
    spec = Spec(job.prompt, job.seed, size[0], size[1])
    return engine.extend(source, spec, Frame(box=box, size=size), GRID_COUNT, progress)


def compose_grid(images: list[Image.Image]) -> Image.Image:
    """The 2x2 composite at full resolution: image 1 top left, 2 top right, 3, 4 below."""
    width, height = images[0].size
    grid = Image.new("RGB", (width * 2, height * 2))
    for n, image in enumerate(images):
        grid.paste(image, ((n % 2) * width, (n // 2) * height))
    return grid
