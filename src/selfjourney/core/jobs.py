"""The job record, its status machine and the commands that create jobs.

A job row is the source of truth; these dataclasses are what the core hands around.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from selfjourney.core.errors import InvalidTransition
from selfjourney.core.flags import Flags


class JobStatus(enum.StrEnum):
    QUEUED = "QUEUED"  #: accepted and paid for, waiting for a worker
    PROCESSING = "PROCESSING"  #: claimed by a worker, rendering
    COMPLETED = "COMPLETED"  #: images stored, ``result`` set
    FAILED = "FAILED"  #: gave up; ``error`` says why and the cost was refunded

    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED)


#: Allowed status changes. PROCESSING -> QUEUED is a worker's death or a Retry.
_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.PROCESSING, JobStatus.FAILED}),
    JobStatus.PROCESSING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.QUEUED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
}


def check_transition(job_id: str, current: JobStatus, to: JobStatus) -> None:
    """Raise InvalidTransition unless ``current -> to`` is a legal move."""
    if to not in _TRANSITIONS[current]:
        raise InvalidTransition(job_id, current.value, to.value)


class JobKind(enum.StrEnum):
    IMAGINE = "imagine"  #: a new 2x2 grid from a prompt
    UPSAMPLE = "upsample"  #: U1-U4: one grid image, standalone
    VARIATION = "variation"  #: V1-V4: a new grid close to one grid image
    INPAINT = "inpaint"  #: vary region of an upsample
    OUTPAINT = "outpaint"  #: zoom out of an upsample
    PAN = "pan"  #: extend an upsample in one direction
    REROLL = "reroll"  #: the parent grid's job again, with a new seed
    UPSCALE = "upscale"  #: an upsample (or a caller's image) made 2x or 4x larger

    def makes_grid(self) -> bool:
        return self not in (JobKind.UPSAMPLE, JobKind.UPSCALE)


#: The follow-up actions (everything but imagine).
ACTIONS = frozenset(JobKind) - {JobKind.IMAGINE}


class Direction(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True)
class Webhook:
    """Where and for which events to POST job updates; ``secret`` is echoed (Apiframe v1)."""

    url: str
    events: frozenset[str] = frozenset({"completed", "failed"})
    secret: str | None = None


@dataclass(frozen=True)
class References:
    """Images by URL that guide a render: "image" (img2img), "style" or "omni" reference, or
    "blend" (Midjourney's /blend: 2-5 images mixed into one picture, no prompt needed)."""

    urls: tuple[str, ...]
    mode: str = "image"
    weight: float = 0.5


@dataclass(frozen=True)
class Imagine:
    """Command: a new grid. ``input`` is the caller's request as it should be echoed back.

    ``flags`` are the dialect's structured parameters; they win over flags in the prompt.
    """

    prompt: str
    aspect_ratio: str | None = None
    webhook: Webhook | None = None
    input: dict[str, Any] = field(default_factory=dict)
    dialect: str = "apiframe_v2"
    flags: Flags = field(default_factory=Flags)
    watermark: str | None = None
    references: References | None = None
    #: Queue priority: higher runs first (midapi's turbo > fast > relaxed).
    priority: int = 0


@dataclass(frozen=True)
class Act:
    """Command: a follow-up action on a finished parent job."""

    parent_id: str
    action: JobKind
    #: 1-4: a grid image, for upsample and variation; also for outpaint, pan and upscale on a
    #: grid parent (the Pro API's one step "upsample, then act")
    index: int | None = None
    zoom_ratio: float | None = None  #: in (1, 2] for outpaint (v2 sends 1.5 or 2)
    #: outpaint: a new shape ``W:H`` (a custom zoom; with ratio 1 only the shape changes)
    aspect_ratio: str | None = None
    direction: Direction | None = None  #: for pan
    prompt: str | None = None  #: optional new prompt for inpaint and reroll
    factor: int | None = None  #: 2 or 4 for upscale
    mode: str | None = None  #: "subtle" or "creative" for upscale
    strength: str | None = None  #: "subtle" or "strong" for variation (None: the default V1-V4)
    mask: str | None = None  #: base64 image for inpaint (never stored with the job's input)
    webhook: Webhook | None = None
    input: dict[str, Any] = field(default_factory=dict)
    dialect: str = "apiframe_v2"
    watermark: str | None = None
    priority: int = 0


@dataclass(frozen=True)
class UpscaleImage:
    """Command: an upscale of a caller's image by URL (no parent job), downloaded by the worker."""

    image_url: str
    factor: int
    mode: str = "subtle"
    webhook: Webhook | None = None
    input: dict[str, Any] = field(default_factory=dict)
    dialect: str = "apiframe_v1"
    priority: int = 0


@dataclass(frozen=True)
class Idempotency:
    """A client's Idempotency-Key and a fingerprint of the request it came with."""

    key: str
    fingerprint: str


@dataclass(frozen=True)
class Result:
    """What a finished job produced: storage keys, the grid's key, each picture's recipe."""

    images: list[str]
    grid: str | None
    width: int
    height: int
    recipes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "grid": self.grid,
            "width": self.width,
            "height": self.height,
            "recipes": self.recipes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        return cls(
            images=list(data["images"]),
            grid=data.get("grid"),
            width=int(data["width"]),
            height=int(data["height"]),
            recipes=list(data.get("recipes", [])),
        )


@dataclass(frozen=True)
class Job:
    """One job as the core sees it."""

    id: str
    account_id: str
    kind: JobKind
    status: JobStatus
    prompt: str
    params: dict[str, Any]
    input: dict[str, Any]
    dialect: str
    seed: int
    cost: int
    created_at: datetime
    model: str = "midjourney"
    parent_id: str | None = None
    progress: int = 0
    refunded: bool = False
    result: Result | None = None
    error: str | None = None
    webhook: Webhook | None = None
    webhook_status: str | None = None
    attempt: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    expired: bool = False

    @property
    def credit_cost(self) -> int:
        """What the job costs the caller now: 0 once refunded."""
        return 0 if self.refunded else self.cost

    def moved(self, to: JobStatus, **changes: Any) -> Job:
        """A copy in status ``to``, checked against the state machine."""
        check_transition(self.id, self.status, to)
        return replace(self, status=to, **changes)
