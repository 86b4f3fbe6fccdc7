"""The queue seam: job ids in, a worker function called for each, at least once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: What a worker does with a job id. It never raises for a job's own failure; it returns the
#: seconds after which the job should run again (an engine asked for a retry), or None.
RunJob = Callable[[str], float | None]


class Queue(Protocol):
    """What the API side needs of a queue: a way in."""

    def enqueue(self, job_id: str, priority: int = 0, model: str | None = None) -> None:
        """Schedule a job; higher ``priority`` runs first. Duplicates are harmless. ``model``
        is the job's model (None: the default), so a fleet can route it to workers serving
        that model."""
        ...
