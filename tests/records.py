"""Core records a test writes straight into the store (as the service would have)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from selfjourney.domain.flags import Flags
from selfjourney.domain.jobs import Job
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import JobParams
from selfjourney.domain.status import JobStatus


def queued_job(account_id: str, cost: int = 16, prompt: str = "a fox") -> Job:
    """A new square grid job, QUEUED, as ``Service.imagine`` makes it."""
    return Job(
        id=str(uuid.uuid4()),
        account_id=account_id,
        kind=JobKind.IMAGINE,
        status=JobStatus.QUEUED,
        prompt=prompt,
        params=JobParams(flags=Flags(aspect_ratio="1:1")),
        input={},
        dialect="apiframe_v2",
        seed=7,
        cost=cost,
        created_at=datetime.now(UTC),
    )
