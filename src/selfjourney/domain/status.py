"""The job status machine: every status change is checked here."""

from __future__ import annotations

import enum

from selfjourney.domain.errors import InvalidTransition


class JobStatus(enum.StrEnum):
    QUEUED = "QUEUED"  #: accepted and paid for, waiting for a worker
    PROCESSING = "PROCESSING"  #: claimed by a worker, rendering
    COMPLETED = "COMPLETED"  #: images stored, ``result`` set
    FAILED = "FAILED"  #: gave up; ``error`` says why and the cost was refunded

    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED)


#: Allowed status changes. PROCESSING -> QUEUED is a worker's death or a retry.
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
