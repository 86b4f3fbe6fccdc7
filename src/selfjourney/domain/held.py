"""Actions held for a confirmation: Midjourney's "modal" buttons (Vary Region, Custom Zoom).

Pressing such a button opens a form (a mask to paint, a zoom to type) before anything runs.
The press is checked against its parent and kept, uncharged and with no job, under an id of
its own; the confirmation runs it as an ordinary action under that same id, charged then.
A press that is never confirmed lapses after ``HOLD_SECONDS``.

Usage::

    held = service.hold(account, Act(upsample_id, JobKind.INPAINT))    # nothing charged
    job, _ = service.release(account, held.id, Act(upsample_id, JobKind.INPAINT, mask=...))
    assert job.id == held.id
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from selfjourney.domain.commands import Act
from selfjourney.domain.kinds import JobKind

#: A held action that is not confirmed within this many seconds can no longer run.
HOLD_SECONDS = 3600
LAPSED = "modal not submitted within 1 hour"
#: The actions that wait for a confirmation: what the form asks for decides how they run.
HOLDABLE = frozenset({JobKind.INPAINT, JobKind.OUTPAINT})


@dataclass(frozen=True)
class HeldAction:
    """A checked action waiting for its confirmation; ``command.prompt`` is the text the
    confirmation form starts from (a mask's prompt is blank; a custom zoom's, the parent's)."""

    id: str
    account_id: str
    command: Act
    created_at: datetime
    #: Set by the service when it reads the hold: True once ``HOLD_SECONDS`` have passed.
    lapsed: bool = False

    @property
    def lapses_at(self) -> datetime:
        return self.created_at + timedelta(seconds=HOLD_SECONDS)
