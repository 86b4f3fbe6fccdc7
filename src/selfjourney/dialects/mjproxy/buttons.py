"""Buttons and their ``customId``s (spec §6): which a task offers, and what a press means.

``{h}`` in every format is the task's own id, so the parent of a press is never ambiguous.
The formats are trueai's (v7 upscales, ``::SOLO`` suffixes), which new-api bills by and the
Dooy client matches by substring; every variant the sources emit is accepted back.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from selfjourney.domain.errors import ActionUnavailable, InvalidInput
from selfjourney.domain.held import HeldAction
from selfjourney.domain.jobs import Job
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.rules import MAX_UPSCALE_SIDE
from selfjourney.domain.status import JobStatus


class Kind(enum.StrEnum):
    """What a button does, whatever the spelling of its customId."""

    UPSAMPLE = "U"
    VARIATION = "V"
    REROLL = "reroll"
    VARY_SUBTLE = "Vary (Subtle)"
    VARY_STRONG = "Vary (Strong)"
    VARY_REGION = "Vary (Region)"
    ZOOM_OUT = "Zoom Out"
    MAKE_SQUARE = "Make Square"
    CUSTOM_ZOOM = "Custom Zoom"
    PAN = "pan"
    UPSCALE = "Upscale"

    @property
    def holds(self) -> bool:
        """A button that opens a form (code 21, then /submit/modal)."""
        return self in (Kind.VARY_REGION, Kind.CUSTOM_ZOOM)


@dataclass(frozen=True)
class Press:
    """A parsed customId: the button, the task it belongs to, and its own values."""

    kind: Kind
    task_id: str
    #: U1-U4, V1-V4
    index: int | None = None
    #: Zoom Out: 2 or 1.5
    zoom: float | None = None
    #: pan
    direction: str | None = None
    #: Upscale: 2 or 4, subtle or creative
    factor: int | None = None
    mode: str | None = None


@dataclass(frozen=True)
class Shown:
    """One button as a task shows it."""

    custom_id: str
    label: str
    emoji: str


_H = r"(?P<h>[^:]+)(?:::SOLO)?$"
_PATTERNS: tuple[tuple[re.Pattern[str], Kind], ...] = tuple(
    (re.compile(pattern + _H), kind)
    for pattern, kind in (
        (r"^MJ::JOB::upsample::(?P<i>[1-4])::", Kind.UPSAMPLE),
        (r"^MJ::JOB::variation::(?P<i>[1-4])::", Kind.VARIATION),
        (r"^MJ::JOB::reroll::0::", Kind.REROLL),
        (r"^MJ::JOB::low_variation::1::", Kind.VARY_SUBTLE),
        (r"^MJ::JOB::high_variation::1::", Kind.VARY_STRONG),
        (r"^MJ::JOB::pan_(?P<d>left|right|up|down)::1::", Kind.PAN),
        (r"^MJ::Outpaint::(?P<z>50|75)::1::", Kind.ZOOM_OUT),
        (r"^MJ::Outpaint::100::1::", Kind.MAKE_SQUARE),
        (r"^MJ::CustomZoom::(?:1::)?", Kind.CUSTOM_ZOOM),
        (r"^MJ::Inpaint::1::", Kind.VARY_REGION),
        (r"^MJ::JOB::upsample_(?P<v>[A-Za-z0-9_]*[24]x[A-Za-z0-9_]*)::1::", Kind.UPSCALE),
    )
)
#: Outpaint's number is how much of the new side the old picture fills: 50 % is a 2x zoom.
_ZOOMS = {"50": 2.0, "75": 1.5}
PAN_EMOJI = {"left": "⬅️", "right": "➡️", "up": "⬆️", "down": "⬇️"}


def parse(custom_id: str, task_id: str) -> Press:
    """The press a customId asks for on ``task_id``; InvalidInput (code 4) when it is not a
    button of ours (Discord-only buttons included) or names another task."""
    for pattern, kind in _PATTERNS:
        match = pattern.match(custom_id.strip())
        if match is None:
            continue
        if match.group("h") != task_id:
            raise InvalidInput(
                f"customId {custom_id} belongs to task {match.group('h')}, not {task_id}",
                "customId",
            )
        return _press(kind, task_id, match.groupdict())
    raise InvalidInput(
        f"customId {custom_id} is not a button this server offers (U1-U4, V1-V4, reroll, "
        "Vary, Zoom Out, Custom Zoom, Make Square, pan, Upscale)",
        "customId",
    )


def _press(kind: Kind, task_id: str, groups: dict[str, str | None]) -> Press:
    index, zoom, variant = groups.get("i"), groups.get("z"), groups.get("v")
    if kind is Kind.UPSCALE and variant is not None:
        factor = 4 if "4x" in variant else 2
        mode = "creative" if "creative" in variant else "subtle"
        return Press(kind, task_id, factor=factor, mode=mode)
    return Press(
        kind,
        task_id,
        index=int(index) if index else None,
        zoom=_ZOOMS[zoom] if zoom else None,
        direction=groups.get("d"),
    )


def for_change(task_id: str, action: str, index: int | None) -> Press:
    """The button a legacy ``change`` (UPSCALE i, VARIATION i, REROLL) stands for."""
    if action == "REROLL":
        return Press(Kind.REROLL, task_id)
    if index is None:
        raise InvalidInput(f"index (1-4) is required for {action}", "index")
    kind = Kind.UPSAMPLE if action == "UPSCALE" else Kind.VARIATION
    return Press(kind, task_id, index=index)


_SIMPLE = re.compile(r"^(?P<id>\S+)\s+(?:(?P<op>[UuVv])(?P<i>[1-4])|(?P<r>[Rr]))$")


def for_simple_change(content: str) -> Press:
    """``"<taskId> U2"``: U1-U4, V1-V4 or R (any case)."""
    match = _SIMPLE.match(content.strip())
    if match is None:
        raise InvalidInput(
            f"content {content!r} must be '<taskId> <op>' with op U1-U4, V1-V4 or R", "content"
        )
    if match.group("r"):
        return Press(Kind.REROLL, match.group("id"))
    kind = Kind.UPSAMPLE if match.group("op").upper() == "U" else Kind.VARIATION
    return Press(kind, match.group("id"), index=int(match.group("i")))


# -- what a task offers ------------------------------------------------------------------------


def shown(job: Job) -> list[Shown]:
    """The task's buttons (spec §6.3): none unless it succeeded and its images are kept."""
    if job.status is not JobStatus.COMPLETED or job.result is None or job.expired:
        return []
    if job.kind.makes_grid():
        return _grid(job)
    if job.kind is JobKind.UPSAMPLE:
        return _upsample(job)
    return []  # an upscale (2x/4x) takes no action


def _grid(job: Job) -> list[Shown]:
    h = job.id
    ups = [Shown(f"MJ::JOB::upsample::{i}::{h}", f"U{i}", "") for i in range(1, 5)]
    variations = [Shown(f"MJ::JOB::variation::{i}::{h}", f"V{i}", "") for i in range(1, 5)]
    # A vary-region grid cannot be rerolled: its mask is deleted when it finishes.
    reroll = [] if job.renders_as is JobKind.INPAINT else [Shown(reroll_id(h), "", "🔄")]
    return [*ups, *reroll, *variations]


def reroll_id(h: str) -> str:
    return f"MJ::JOB::reroll::0::{h}::SOLO"


def _upsample(job: Job) -> list[Shown]:
    assert job.result is not None
    h, width, height = job.id, job.result.width, job.result.height
    buttons = [
        Shown(upscale_id(h, 2, "subtle"), "Upscale (Subtle)", "upscale_1"),
        Shown(upscale_id(h, 2, "creative"), "Upscale (Creative)", "upscale_1"),
    ]
    if max(width, height) * 4 <= MAX_UPSCALE_SIDE:
        buttons.append(Shown(upscale_id(h, 4, "subtle"), "Upscale (4x)", "upscale_1"))
    if job.parent_id is not None and job.params.action.index is not None:
        buttons += [
            Shown(f"MJ::JOB::low_variation::1::{h}::SOLO", "Vary (Subtle)", "🪄"),
            Shown(f"MJ::JOB::high_variation::1::{h}::SOLO", "Vary (Strong)", "🪄"),
        ]
    buttons += [
        Shown(f"MJ::Inpaint::1::{h}::SOLO", "Vary (Region)", "🖌️"),
        Shown(zoom_id(h, 2.0), "Zoom Out 2x", "🔍"),
        Shown(zoom_id(h, 1.5), "Zoom Out 1.5x", "🔍"),
        Shown(f"MJ::CustomZoom::{h}", "Custom Zoom", "🔍"),
    ]
    if width != height:
        buttons.append(Shown(f"MJ::Outpaint::100::1::{h}::SOLO", "Make Square", "↔️"))
    buttons += [Shown(pan_id(h, d), "", emoji) for d, emoji in PAN_EMOJI.items()]
    return buttons


def upscale_id(h: str, factor: int, mode: str) -> str:
    variant = "v5_4x" if factor == 4 and mode == "subtle" else f"v7_{factor}x_{mode}"
    return f"MJ::JOB::upsample_{variant}::1::{h}::SOLO"


def zoom_id(h: str, ratio: float) -> str:
    return f"MJ::Outpaint::{50 if ratio == 2 else 75}::1::{h}::SOLO"


def pan_id(h: str, direction: str) -> str:
    return f"MJ::JOB::pan_{direction}::1::{h}::SOLO"


def check_offered(press: Press, task: Job | HeldAction, what: str) -> None:
    """Refuse a press the task does not offer now (code 4): a task that has not succeeded,
    or a button of another kind of task (a pan on a grid, a reroll of a vary-region grid)."""
    if isinstance(task, HeldAction):
        raise ActionUnavailable(
            f"task {task.id} is MODAL; buttons work on SUCCESS tasks", task.id, press.kind
        )
    if task.status is not JobStatus.COMPLETED or task.result is None or task.expired:
        state = "expired" if task.expired else f"not SUCCESS ({task.status.value})"
        raise ActionUnavailable(
            f"task {task.id} is {state}; buttons work on SUCCESS tasks", task.id, press.kind
        )
    offered = {_kind_of(button.custom_id, task.id) for button in shown(task)}
    if press.kind not in offered:
        raise InvalidInput(
            f"{what}: task {task.id} does not offer {press.kind.value} (see its buttons)",
            "customId",
        )


def _kind_of(custom_id: str, task_id: str) -> Kind:
    return parse(custom_id, task_id).kind
