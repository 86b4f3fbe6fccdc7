"""The job status machine: every status change is checked here."""

from __future__ import annotations

import enum

from selfjourney.domain.errors import InvalidTransition


class JobStatus(enum.StrEnum):
    QUEUED = "QUEUED"  #: accepted and paid for, waiting for a worker
    PROCESSING = "PROCESSING"  #: claimed by a worker, rendering
    COMPLETED = "COMPLETED"  #: images stored, ``result`` set
    FAILED = "FAILED"  #: gave up; ``error`` says why and the cost was refunded
    CANCELLED = "CANCELLED"  #: stopped at its owner's request; the cost was refunded

    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)

    def is_failure(self) -> bool:
        """Ended without images, its cost refunded: failed, or cancelled (which a dialect with
        no word for it shows as its failure, the job's ``error`` saying why)."""
        return self in (JobStatus.FAILED, JobStatus.CANCELLED)


#: Allowed status changes. PROCESSING -> QUEUED is a worker's death (its lease ran out) or a
#: retry.
_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.PROCESSING, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.PROCESSING: frozenset(
        {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.QUEUED, JobStatus.CANCELLED}
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


def check_transition(job_id: str, current: JobStatus, to: JobStatus) -> None:
    """Raise InvalidTransition unless ``current -> to`` is a legal move."""
    if to not in _TRANSITIONS[current]:
        raise InvalidTransition(job_id, current.value, to.value)
