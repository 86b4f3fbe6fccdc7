"""The job record: what was asked, what it cost, where it is, what came out.

A job row is the source of truth; ``Job`` is that row as every part of the program sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import JobParams
from selfjourney.domain.status import JobStatus, check_transition

#: The events a subscriber gets unless it names others.
DEFAULT_EVENTS = frozenset({"completed", "failed"})


@dataclass(frozen=True)
class Webhook:
    """Where and for which events to POST job updates; ``secret`` is echoed (Apiframe v1)."""

    url: str
    events: frozenset[str] = DEFAULT_EVENTS
    secret: str | None = None


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
    """One job as the program sees it."""

    id: str
    account_id: str
    kind: JobKind
    status: JobStatus
    prompt: str
    params: JobParams
    input: dict[str, Any]
    dialect: str
    seed: int
    cost: int
    created_at: datetime
    #: The wire model name (Apiframe v2's ``"midjourney"``), not the one that renders.
    model: str = "midjourney"
    #: The configured model that renders it (``domain.models``; ``v7``, ``niji6``...), fixed
    #: when it is accepted; an action's is its parent's. None: the default (jobs before 0006).
    render_model: str | None = None
    parent_id: str | None = None
    progress: int = 0
    refunded: bool = False
    result: Result | None = None
    error: str | None = None
    webhook: Webhook | None = None
    webhook_status: str | None = None
    attempt: int = 0
    #: While PROCESSING: until when the worker rendering it holds it (it renews the lease).
    lease_until: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    expired: bool = False

    @property
    def credit_cost(self) -> int:
        """What the job costs the caller now: 0 once refunded."""
        return 0 if self.refunded else self.cost

    @property
    def renders_as(self) -> JobKind:
        """What the job draws: a reroll draws as the job it repeats."""
        if self.kind is JobKind.REROLL:
            return self.params.repeats or JobKind.IMAGINE
        return self.kind

    def moved(self, to: JobStatus, **changes: Any) -> Job:
        """A copy in status ``to``, checked against the state machine."""
        check_transition(self.id, self.status, to)
        return replace(self, status=to, **changes)
