"""Core records to midjourney-proxy task objects (spec §5), for fetch, lists and notifyHook.

Any job renders, whichever dialect made it: its action, buttons and customId come from its
typed parameters. A held action (a press waiting for its modal) renders as a MODAL task.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from selfjourney.dialects.mjproxy import buttons as b
from selfjourney.dialects.mjproxy.models import (
    Mode,
    Task,
    TaskAction,
    TaskProperties,
    TaskStatus,
)
from selfjourney.domain.flags import Flags
from selfjourney.domain.held import LAPSED, HeldAction
from selfjourney.domain.jobs import Job
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.status import JobStatus

NAME = "mjproxy"
#: Queue priority of each speed, the numbers of every dialect (midapi's turbo 2 > fast 1 >
#: relaxed 0), so the queue orders jobs alike whichever dialect sent them.
PRIORITY: dict[Mode, int] = {"TURBO": 2, "FAST": 1, "RELAX": 0}
FAILED = "Image generation failed"

_ACTIONS: dict[JobKind, TaskAction] = {
    JobKind.IMAGINE: "IMAGINE",
    JobKind.UPSAMPLE: "UPSCALE",
    JobKind.VARIATION: "VARIATION",
    JobKind.INPAINT: "VARIATION",  # Vary (Region) is a variation to the sources
    JobKind.OUTPAINT: "ZOOM",
    JobKind.PAN: "PAN",
    JobKind.REROLL: "REROLL",
    JobKind.UPSCALE: "UPSCALE_HD",
}


def mode(priority: int) -> Mode:
    if priority >= PRIORITY["TURBO"]:
        return "TURBO"
    return "FAST" if priority == PRIORITY["FAST"] else "RELAX"


def millis(value: datetime | None) -> int | None:
    """Epoch milliseconds, an integer (new-api times tasks out on ``submitTime``)."""
    return None if value is None else int(value.timestamp() * 1000)


def action(job: Job) -> TaskAction:
    references = job.params.references
    if job.kind is JobKind.IMAGINE and references is not None and references.mode == "blend":
        return "BLEND"
    return _ACTIONS[job.kind]


def status(job: Job) -> TaskStatus:
    if job.status is JobStatus.QUEUED:
        return "NOT_START"
    if job.status is JobStatus.PROCESSING:
        return "IN_PROGRESS" if job.progress > 0 else "SUBMITTED"
    return "SUCCESS" if job.status is JobStatus.COMPLETED else "FAILURE"


def progress(job: Job) -> str:
    """``"<n>%"``: "100%" once the task is over (success or failure), at most "99%" before."""
    if job.status.is_terminal():
        return "100%"
    return f"{max(0, min(99, int(job.progress)))}%"


def flag_text(flags: Flags, seed: int | None) -> str:
    """The recorded flags written back as prompt flags."""
    words = []
    if flags.aspect_ratio:
        words.append(f"--ar {flags.aspect_ratio}")
    if flags.negative:
        words.append(f"--no {', '.join(flags.negative)}")
    named = (("chaos", flags.chaos), ("stylize", flags.stylize), ("weird", flags.weird))
    words += [f"--{name} {value}" for name, value in named if value is not None]
    if flags.tile:
        words.append("--tile")
    if flags.niji:
        words.append(f"--niji {flags.version}" if flags.version else "--niji")
    elif flags.version:
        words.append(f"--v {flags.version}")
    if seed is not None:
        words.append(f"--seed {seed}")
    return " ".join(words)


def final_prompt(job: Job) -> str:
    """The prompt as rendered: the clean text, then the recorded flags and the seed."""
    return " ".join(part for part in (job.prompt, flag_text(job.params.flags, job.seed)) if part)


def prompt(job: Job) -> str:
    """The prompt as the client sent it, flags included, when the request carried one (an
    imagine, a modal); else the text and flags the task kept from its parent."""
    sent = job.input.get("prompt")
    if isinstance(sent, str) and sent.strip():
        return sent
    return " ".join(part for part in (job.prompt, flag_text(job.params.flags, None)) if part)


def _ours(job: Job, key: str) -> str | None:
    """A field this dialect recorded in the job's input (as the caller sent it)."""
    value = job.input.get(key) if job.dialect == NAME else None
    return value if isinstance(value, str) else None


def pressed(job: Job) -> str | None:
    """The task whose button made this one (Vary Subtle/Strong act on the upsample's grid,
    but the pressed task is the upsample)."""
    return _ours(job, "taskId") or job.parent_id


def custom_id(job: Job) -> str | None:
    """The button that made the task: as sent, else the equivalent button (other dialects'
    jobs, legacy change); None for a new grid."""
    sent = _ours(job, "customId")
    if sent is not None:
        return sent
    h, args = job.parent_id, job.params.action
    if h is None:
        return None
    if job.kind is JobKind.UPSAMPLE:
        return f"MJ::JOB::upsample::{args.index or 1}::{h}"
    if job.kind is JobKind.VARIATION:
        if args.strength is not None:
            name = "low" if args.strength == "subtle" else "high"
            return f"MJ::JOB::{name}_variation::1::{h}::SOLO"
        return f"MJ::JOB::variation::{args.index or 1}::{h}"
    return _custom_id_of_action(job, h)


def _custom_id_of_action(job: Job, h: str) -> str | None:
    args = job.params.action
    if job.kind is JobKind.REROLL:
        return b.reroll_id(h)
    if job.kind is JobKind.INPAINT:
        return f"MJ::Inpaint::1::{h}::SOLO"
    if job.kind is JobKind.PAN:
        return b.pan_id(h, args.direction or "up")
    if job.kind is JobKind.UPSCALE:
        return b.upscale_id(h, args.factor or 2, args.mode or "subtle")
    if job.kind is JobKind.OUTPAINT:
        if args.shape is None and args.zoom_ratio in (2.0, 1.5):
            return b.zoom_id(h, args.zoom_ratio or 2.0)
        if args.shape == "1:1" and args.zoom_ratio == 1:
            return f"MJ::Outpaint::100::1::{h}::SOLO"
        return f"MJ::CustomZoom::{h}"
    return None


def _label(job: Job) -> str:
    """The button's name in ``description``: U2, V1, R, Vary (Strong), Zoom Out 2x, pan_left..."""
    args = job.params.action
    labels = {
        JobKind.UPSAMPLE: f"U{args.index or 1}",
        JobKind.VARIATION: (
            f"Vary ({args.strength.title()})" if args.strength else f"V{args.index or 1}"
        ),
        JobKind.REROLL: "R",
        JobKind.INPAINT: "Vary (Region)",
        JobKind.PAN: f"pan_{args.direction}",
        JobKind.UPSCALE: f"Upscale ({(args.mode or 'subtle').title()} {args.factor or 2}x)",
    }
    if job.kind is JobKind.OUTPAINT:
        ratio = args.zoom_ratio or 2.0
        if args.shape is not None:
            return "Make Square" if ratio == 1 and args.shape == "1:1" else "Custom Zoom"
        return f"Zoom Out {ratio:g}x"
    return labels.get(job.kind, job.kind.value)


def description(job: Job) -> str:
    """For display: ``/imagine <prompt>``, ``/blend <id> <n>``, ``/up <pressed task> <op>``."""
    references = job.params.references
    if job.kind is JobKind.IMAGINE:
        if references is not None and references.mode == "blend":
            return f"/blend {job.id} {len(references.urls) + len(references.keys)}"
        return f"/imagine {prompt(job)}"
    return f"/up {pressed(job) or job.id} {_label(job)}"


def _images(job: Job, url: Callable[[str], str]) -> tuple[str | None, list[dict[str, str]] | None]:
    """``imageUrl`` (the grid composite, or the one image) and ``imageUrls`` (a grid's four)."""
    result = job.result
    if job.status is not JobStatus.COMPLETED or result is None or job.expired:
        return None, None
    if not job.kind.makes_grid():
        return url(result.images[0]), None
    grid = url(result.grid) if result.grid else url(result.images[0])
    return grid, [{"url": url(key)} for key in result.images]


def task_json(job: Job, url: Callable[[str], str]) -> dict[str, Any]:
    """The task object of any job (spec §5) as plain JSON: what a poll of many tasks sends
    without a validation pass (``task`` validates the same dict against ``Task``)."""
    image_url, image_urls = _images(job, url)
    text = prompt(job)
    return {
        "id": job.id,
        "action": action(job),
        "customId": custom_id(job),
        "botType": "NIJI_JOURNEY" if job.params.flags.niji else "MID_JOURNEY",
        "mode": mode(job.params.priority),
        "status": status(job),
        "progress": progress(job),
        "prompt": text,
        "promptEn": text,
        "description": description(job),
        "state": _ours(job, "state"),
        "submitTime": millis(job.created_at) or 0,
        "startTime": millis(job.started_at),
        "finishTime": millis(job.completed_at) if job.status.is_terminal() else None,
        "imageUrl": image_url,
        "imageUrls": image_urls,
        "videoUrl": None,
        "videoUrls": None,
        "failReason": (job.error or FAILED) if job.status.is_failure() else None,
        "buttons": [
            {"customId": s.custom_id, "emoji": s.emoji, "label": s.label, "type": 2, "style": 2}
            for s in b.shown(job)
        ],
        "properties": _properties(job),
        "parentId": pressed(job),
        "seed": str(job.seed),
    }


def _properties(job: Job) -> dict[str, Any]:
    """The final prompt, the purge flag and, on a server with a models table, the model."""
    properties = {"finalPrompt": final_prompt(job), "finalZhPrompt": "", "expired": job.expired}
    return properties | ({"model": job.render_model} if job.render_model else {})


def task(job: Job, url: Callable[[str], str]) -> Task:
    """The task object of any job, checked against its model."""
    return Task.model_validate(task_json(job, url))


def held_task(held: HeldAction) -> Task:
    """A press waiting for its modal: MODAL, "0%", no job yet (FAILURE once it lapsed)."""
    command = held.command
    sent = command.input.get("customId")
    text = command.prompt or ""
    label = "Vary (Region)" if command.action is JobKind.INPAINT else "Custom Zoom"
    state = command.input.get("state")
    return Task(
        id=held.id,
        action=_ACTIONS[command.action],
        customId=sent if isinstance(sent, str) else None,
        botType="MID_JOURNEY",
        mode=mode(command.priority),
        status="FAILURE" if held.lapsed else "MODAL",
        progress="100%" if held.lapsed else "0%",
        prompt=text,
        promptEn=text,
        description=f"/up {command.parent_id} {label}",
        state=state if isinstance(state, str) else None,
        submitTime=millis(held.created_at) or 0,
        startTime=None,
        finishTime=millis(held.lapses_at) if held.lapsed else None,
        imageUrl=None,
        imageUrls=None,
        failReason=LAPSED if held.lapsed else None,
        buttons=[],
        properties=TaskProperties(finalPrompt=text),
        parentId=command.parent_id,
        seed=None,
    )


def webhook_payload(job: Job, _event: str, url: Callable[[str], str]) -> dict[str, Any]:
    """The notifyHook body: the task object exactly as fetch shows it."""
    return task(job, url).model_dump(mode="json")
