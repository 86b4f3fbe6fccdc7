"""Pages of a key's jobs, newest first, and the opaque cursor that continues one.

A cursor is the last job's (created_at, id), base64 JSON. It comes back from clients, so it is
read as hostile input: anything this server could not have issued is an ``InvalidInput``.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from selfjourney.domain.errors import InvalidInput
from selfjourney.domain.jobs import Job

#: Far longer than any cursor this server issues (about 110 characters).
MAX_CURSOR_LENGTH = 512
_REFUSED = "cursor is not one this server issued"


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: jobs older than this one come next."""

    created_at: datetime
    job_id: str

    @classmethod
    def after(cls, job: Job) -> Cursor:
        return cls(job.created_at, job.id)

    def encode(self) -> str:
        raw = json.dumps({"createdAt": self.created_at.isoformat(), "id": self.job_id})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Read a cursor made by ``encode``; anything else is an InvalidInput on ``cursor``."""
        if not text or len(text) > MAX_CURSOR_LENGTH:
            raise InvalidInput(_REFUSED, "cursor")
        try:
            padded = text + "=" * (-len(text) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            created_at, job_id = data["createdAt"], data["id"]
            if not isinstance(created_at, str) or not isinstance(job_id, str):
                raise TypeError("createdAt and id must be strings")
            return cls(_utc(datetime.fromisoformat(created_at)), str(uuid.UUID(job_id)))
        except (ValueError, KeyError, TypeError, OverflowError, binascii.Error):
            raise InvalidInput(_REFUSED, "cursor") from None


def _utc(moment: datetime) -> datetime:
    """An aware moment in UTC; a naive one, or one outside the calendar in UTC, is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("cursor times carry their zone")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Page:
    """One page of jobs and the cursor of the next, None on the last page."""

    jobs: list[Job]
    next_cursor: str | None
