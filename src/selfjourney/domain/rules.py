"""Rules of the Midjourney button graph: which parent takes which action, what a follow-up
keeps from its parent, and the limits of an upscale."""

from __future__ import annotations

from selfjourney.domain.commands import Act
from selfjourney.domain.errors import ActionUnavailable, InvalidInput, InvalidParent
from selfjourney.domain.flags import parse_prompt
from selfjourney.domain.jobs import Job
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex, JobParams, Source
from selfjourney.domain.sizes import parse_aspect_ratio
from selfjourney.domain.status import JobStatus

#: An upscale's output may not be larger than this on either side (refused at submission).
MAX_UPSCALE_SIDE = 4096
UPSCALE_FACTORS = (2, 4)
UPSCALE_MODES = ("subtle", "creative")
#: A caller's image (upscale by URL, no parent job) may be at most this large on either side.
MAX_URL_UPSCALE_SIDE = 2048
#: Vary (Subtle) and Vary (Strong); no strength is the ordinary V1-V4 variation.
VARIATION_STRENGTHS = ("subtle", "strong")
#: Reference images of one grid, by URL and inline together.
MAX_REFERENCE_IMAGES = 5

_NEEDS_GRID = frozenset({JobKind.UPSAMPLE, JobKind.VARIATION, JobKind.REROLL})
_NEEDS_UPSAMPLE = frozenset({JobKind.INPAINT, JobKind.OUTPAINT, JobKind.PAN, JobKind.UPSCALE})
#: Actions that also take a grid parent plus an ``index``: one step "upsample, then act".
_GRID_WITH_INDEX = frozenset({JobKind.OUTPAINT, JobKind.PAN, JobKind.UPSCALE})


def check_parent(parent: Job, action: JobKind, index: GridIndex | None = None) -> None:
    """Refuse an action its parent cannot take: wrong kind (400) or not ready (409).

    Outpaint, pan and upscale need an upsample, or a grid when ``index`` names its image.
    """
    if action in _GRID_WITH_INDEX and index is not None:
        _check_indexed_parent(parent, action, index)
    elif action is JobKind.REROLL and parent.renders_as is JobKind.INPAINT:
        raise InvalidParent(
            f"a vary-region grid cannot be rerolled: its mask is not kept; job {parent.id} is "
            "one, so vary the region of its upsample again",
            parent.id,
            action.value,
        )
    elif action in _NEEDS_GRID and not parent.kind.makes_grid():
        raise InvalidParent(
            f"{action.value} needs a grid job (generate, variation, reroll, inpaint, outpaint "
            "or pan); "
            f"job {parent.id} is an upsample",
            parent.id,
            action.value,
        )
    elif action in _NEEDS_UPSAMPLE and parent.kind is not JobKind.UPSAMPLE:
        what = "a 4-image grid" if parent.kind.makes_grid() else f"an {parent.kind.value}"
        raise InvalidParent(
            f"{action.value} needs an upsample job (U1-U4); job {parent.id} is {what}: "
            "upsample one of a grid's images first",
            parent.id,
            action.value,
        )
    _check_ready(parent, action)


def _check_indexed_parent(parent: Job, action: JobKind, index: GridIndex) -> None:
    if not parent.kind.makes_grid():
        raise InvalidParent(
            f"{action.value} of image {index} needs a grid job (generate, variation...); "
            f"job {parent.id} is an {parent.kind.value}, a single image: send its grid's id",
            parent.id,
            action.value,
        )


def _check_ready(parent: Job, action: JobKind) -> None:
    if parent.status is not JobStatus.COMPLETED:
        raise ActionUnavailable(
            f"parent job {parent.id} is {parent.status.value}; actions need a COMPLETED job",
            parent.id,
            action.value,
        )
    if parent.expired or parent.result is None:
        raise ActionUnavailable(
            f"the images of parent job {parent.id} are no longer stored", parent.id, action.value
        )


#: Every button a finished job may offer (``follow_ups``), whichever dialect presses it.
FOLLOW_UPS = (
    "upsample",
    "variation",
    "reroll",
    "vary_subtle",
    "vary_strong",
    "inpaint",
    "outpaint",
    "pan",
    "upscale_2x",
    "upscale_4x",
)


def follow_ups(job: Job) -> tuple[str, ...]:
    """The buttons this job can take now, by the rules ``check_parent`` and ``check_upscale``
    apply: none until it is COMPLETED or once its images are purged.

    A grid takes U1-U4, V1-V4 and a reroll (not a vary-region grid: its mask is gone); an
    upsample takes vary region, zoom out, pan, the upscales whose result fits the size cap, and
    Vary (Subtle/Strong), a variation of its image on its grid.
    """
    if job.status is not JobStatus.COMPLETED or job.expired or job.result is None:
        return ()
    if job.kind.makes_grid():
        rerolls = () if job.renders_as is JobKind.INPAINT else ("reroll",)
        return ("upsample", "variation", *rerolls)
    if job.kind is not JobKind.UPSAMPLE:
        return ()
    side = max(job.result.width, job.result.height)
    upscales = tuple(f"upscale_{f}x" for f in UPSCALE_FACTORS if side * f <= MAX_UPSCALE_SIDE)
    varies = ("vary_subtle", "vary_strong") if job.parent_id and job.params.action.index else ()
    return (*varies, "inpaint", "outpaint", "pan", *upscales)


#: Actions that need a grid image named.
_NEEDS_INDEX = frozenset({JobKind.UPSAMPLE, JobKind.VARIATION})


def check_args(action: JobKind, args: ActionArgs) -> None:
    """The action's own values, checked before its parent is looked up: a bad value is a 400
    whatever the parent is."""
    if action in _NEEDS_INDEX and args.index is None:
        raise InvalidInput(f"{action.value} needs the index (1-4) of a grid image", "index")
    check_strength(action, args.strength)
    check_zoom_ratio(args.zoom_ratio, args.shape)


def check_reference_count(count: int) -> None:
    """At most five reference images guide a grid."""
    if count > MAX_REFERENCE_IMAGES:
        raise InvalidInput(
            f"at most {MAX_REFERENCE_IMAGES} reference images guide a grid, not {count}",
            "references",
        )


def check_strength(action: JobKind, strength: str | None) -> None:
    """A strength only on a variation, and only subtle or strong."""
    if strength is None:
        return
    if action is not JobKind.VARIATION:
        raise InvalidInput(f"strength is for variations only, not {action.value}", "strength")
    if strength not in VARIATION_STRENGTHS:
        raise InvalidInput(
            f"variation strength must be subtle or strong, not {strength}", "strength"
        )


def check_zoom_ratio(ratio: float | None, aspect_ratio: str | None = None) -> None:
    """A zoom out shows more, up to twice as much: a ratio in (1, 2]; or 1 with a new shape
    (``aspect_ratio``), which only widens or heightens the picture."""
    if aspect_ratio is not None:
        parse_aspect_ratio(aspect_ratio)
    if ratio is None or 1 < ratio <= 2 or (ratio == 1 and aspect_ratio is not None):
        return
    if ratio == 1:
        raise InvalidInput(
            "a zoom ratio of 1 zooms out nothing: give aspect_ratio for a new shape "
            "(e.g. 1:1 to make it square), or a ratio over 1 and at most 2",
            "zoom_ratio",
        )
    raise InvalidInput(f"zoom ratio must be over 1 and at most 2, not {ratio:g}", "zoom_ratio")


def check_upscale_options(factor: int | None, mode: str | None) -> None:
    """Refuse an upscale factor other than 2 or 4, or a mode other than subtle or creative."""
    if factor not in UPSCALE_FACTORS:
        raise InvalidInput(f"upscale factor must be 2 or 4, not {factor}", "factor")
    if mode not in UPSCALE_MODES:
        raise InvalidInput(f"upscale mode must be subtle or creative, not {mode}", "mode")


def check_upscale(width: int, height: int, factor: int | None, mode: str | None) -> None:
    """Refuse an upscale with a bad factor or mode, or whose result would pass the cap."""
    check_upscale_options(factor, mode)
    assert factor is not None
    if max(width, height) * factor > MAX_UPSCALE_SIDE:
        raise InvalidInput(
            f"a {factor}x upscale of this {width}x{height} image would be "
            f"{width * factor}x{height * factor}, over the {MAX_UPSCALE_SIDE} px limit; "
            "use a smaller factor",
            "factor",
        )


def check_upscale_image(width: int, height: int, factor: int) -> None:
    """A caller's image to upscale: at most 2048 a side, and a result within the cap.

    Checked by the worker once the image is downloaded (its size is unknown before).
    """
    if max(width, height) > MAX_URL_UPSCALE_SIDE:
        side = MAX_URL_UPSCALE_SIDE
        raise InvalidInput(
            f"the image is {width}x{height}; /upscale-highres takes images up to {side}x{side}",
            "image_url",
        )
    if max(width, height) * factor > MAX_UPSCALE_SIDE:
        raise InvalidInput(
            f"the image is {width}x{height}; a {factor}x upscale would be "
            f"{width * factor}x{height * factor}, over the {MAX_UPSCALE_SIDE} px limit: "
            "use 2x",
            "type",
        )


def follow_up_prompt(parent: Job, command: Act) -> str:
    """A new prompt when the button came with one (its flags dropped), else the parent's."""
    if command.prompt:
        return parse_prompt(command.prompt)[0]
    return parent.prompt


def follow_up_params(parent: Job, command: Act) -> JobParams:
    """A reroll repeats its parent's job; other actions keep its look and start from a picture.

    The parent's watermark is not inherited: each request says whether it wants one.
    """
    if command.action is JobKind.REROLL:
        return JobParams(
            flags=parent.params.flags,
            action=parent.params.action,
            source=parent.params.source,
            references=parent.params.references,
            watermark=command.watermark or parent.params.watermark,
            priority=command.priority or parent.params.priority,
            repeats=parent.renders_as,
        )
    return JobParams(
        flags=parent.params.flags.inherited(),
        action=command.args,
        source=source_picture(parent, command.args.index),
        watermark=command.watermark,
        priority=command.priority,
    )


def source_picture(parent: Job, index: GridIndex | None) -> Source:
    """The parent picture an action starts from: grid image ``index``, or the only one."""
    assert parent.result is not None
    offset = index.offset if index is not None else 0
    recipes = parent.result.recipes
    return Source(
        key=parent.result.images[offset],
        width=parent.result.width,
        height=parent.result.height,
        recipe=recipes[offset] if offset < len(recipes) else {},
    )
