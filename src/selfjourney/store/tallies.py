"""Fleet-wide counts read at scrape time: one grouped query per metric family.

Every API process answers the same numbers, since they come from the shared database rather
than from the process that happened to do the work.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from selfjourney.store.database import Database
from selfjourney.store.models import DeliveryRow, JobRow, LedgerRow

#: The label of jobs that name no model (a server without a models table).
DEFAULT_MODEL = "default"


@dataclass(frozen=True)
class JobCount:
    status: str
    kind: str
    model: str
    count: int


#: The model that renders (``render_model``; NULL on a server without a models table).
_JOBS = select(JobRow.status, JobRow.kind, JobRow.render_model, func.count()).group_by(
    JobRow.status, JobRow.kind, JobRow.render_model
)
#: On the status index: touches only the queued rows.
_QUEUED = select(func.count()).select_from(JobRow).where(JobRow.status == "QUEUED")
_LEDGER = select(LedgerRow.reason, func.coalesce(func.sum(LedgerRow.delta), 0)).group_by(
    LedgerRow.reason
)
#: Grouped on plain columns and IS NULL tests only: PostgreSQL refuses a GROUP BY expression
#: holding bound parameters (each copy gets its own placeholder, so they differ).
_UNANSWERED = DeliveryRow.last_status_code.is_(None)
_UNREPORTED = DeliveryRow.last_error.is_(None)
_DELIVERIES = select(
    DeliveryRow.status, DeliveryRow.event, _UNANSWERED, _UNREPORTED, func.count()
).group_by(DeliveryRow.status, DeliveryRow.event, _UNANSWERED, _UNREPORTED)


class Tallies:
    """The counts behind the fleet metrics (``observe.metrics.FleetCollector``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def jobs(self) -> list[JobCount]:
        """Jobs by status, kind and model."""
        with self.db.connection() as connection:
            rows = connection.execute(_JOBS).all()
        return [
            JobCount(status, kind, model or DEFAULT_MODEL, count)
            for status, kind, model, count in rows
        ]

    def queued(self) -> int:
        """Jobs waiting for a worker (by model: ``jobs()``, status QUEUED)."""
        with self.db.connection() as connection:
            return int(connection.execute(_QUEUED).scalar_one())

    def ledger(self) -> dict[str, int]:
        """The net credits moved by each ledger reason (``charge`` < 0, ``refund`` > 0...)."""
        with self.db.connection() as connection:
            return {reason: int(total) for reason, total in connection.execute(_LEDGER).all()}

    def deliveries(self) -> dict[tuple[str, str], int]:
        """Webhook deliveries by (outcome, event); outcome is delivered, failed, retrying (a
        pending delivery with a failed attempt) or pending (none has failed yet)."""
        counts: dict[tuple[str, str], int] = {}
        with self.db.connection() as connection:
            for status, event, unanswered, unreported, count in connection.execute(_DELIVERIES):
                failed_once = not (unanswered and unreported)
                outcome = "retrying" if status == "pending" and failed_once else status
                counts[outcome, event] = counts.get((outcome, event), 0) + count
        return counts
