"""The queue seam: job ids in, a worker function called for each, at least once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: What a worker does with a job id. It must never raise for a job's own failure.
RunJob = Callable[[str], None]


class Queue(Protocol):
    def enqueue(self, job_id: str, priority: int = 0) -> None:
        """Schedule a job; higher ``priority`` runs first. Duplicates are harmless."""
        ...

    def start(self) -> None: ...

    def stop(self) -> None:
        """Stop taking jobs and wait for running ones to finish their current step."""
        ...

    def drain(self) -> int:
        """Run every queued job in the calling thread; return how many ran (tests, burst)."""
        ...
