"""Webhook delivery rows: created with the job's final state, leased and retried from here."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.orm import Session

from selfjourney.store.database import Database
from selfjourney.store.models import DeliveryRow, JobRow

#: Events whose outcome becomes the job's ``webhookStatus`` and that are retried.
TERMINAL_EVENTS = frozenset({"completed", "failed"})


@dataclass(frozen=True)
class NewDelivery:
    """An event to send: the exact body bytes are fixed now, so retries resend them."""

    job_id: str
    event: str
    url: str
    body: bytes
    headers: dict[str, str]
    max_attempts: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: The dialect's own per-attempt timeout and retry delays (None: the server's).
    timeout: float | None = None
    backoff: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Delivery:
    id: str
    job_id: str
    event: str
    url: str
    body: bytes
    headers: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    timeout: float | None = None
    backoff: tuple[float, ...] | None = None


_INSERT = insert(cast(Table, DeliveryRow.__table__))


def add_deliveries(
    session: Session | Connection, deliveries: list[NewDelivery], now: datetime
) -> None:
    """Insert deliveries in the caller's transaction (the one that ends the job)."""
    if not deliveries:
        return
    session.execute(
        _INSERT,
        [
            {
                "id": d.id,
                "job_id": d.job_id,
                "event": d.event,
                "url": d.url,
                "body": d.body,
                "headers": d.headers,
                "status": "pending",
                "attempts": 0,
                "max_attempts": d.max_attempts,
                "next_attempt_at": now,
                "created_at": now,
                "last_status_code": None,
                "last_error": None,
                "delivered_at": None,
                "timeout": d.timeout,
                "backoff": list(d.backoff) if d.backoff is not None else None,
            }
            for d in deliveries
        ],
    )


def _to_delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        job_id=row.job_id,
        event=row.event,
        url=row.url,
        body=row.body,
        headers=dict(row.headers),
        status=row.status,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        timeout=row.timeout,
        backoff=tuple(row.backoff) if row.backoff is not None else None,
    )


class Deliveries:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, deliveries: list[NewDelivery]) -> None:
        with self.db.write() as session:
            add_deliveries(session, deliveries, self.db.now())

    def lease_due(
        self,
        limit: int,
        hold: Callable[[Delivery], timedelta],
        exclude: Collection[str] = (),
    ) -> list[Delivery]:
        """Start the next attempt of up to ``limit`` due deliveries, counting it now.

        Each comes back with ``attempts`` already counting the attempt being made, and is hidden
        for ``hold(delivery)``: if its sender dies, it is due again when its next attempt would
        have been anyway, numbered on. A delivery whose last attempt was interrupted so is
        settled as failed. Rows locked by another process are skipped (PostgreSQL).
        """
        now = self.db.now()
        query = (
            select(DeliveryRow)
            .where(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now)
            .order_by(DeliveryRow.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if exclude:
            query = query.where(DeliveryRow.id.not_in(list(exclude)))
        leased = []
        with self.db.write() as session:
            for row in session.scalars(query).all():
                if row.attempts >= row.max_attempts:
                    _settle_interrupted(session, row, now)
                    continue
                row.attempts += 1
                delivery = _to_delivery(row)
                row.next_attempt_at = now + hold(delivery)
                leased.append(delivery)
        return leased

    def pending(self) -> int:
        """How many deliveries still have an attempt to make."""
        with self.db.read() as session:
            return len(
                session.scalars(select(DeliveryRow.id).where(DeliveryRow.status == "pending")).all()
            )

    def next_due_at(self) -> datetime | None:
        with self.db.read() as session:
            return session.scalars(
                select(DeliveryRow.next_attempt_at)
                .where(DeliveryRow.status == "pending")
                .order_by(DeliveryRow.next_attempt_at)
                .limit(1)
            ).first()

    def record(
        self,
        delivery: Delivery,
        delivered: bool,
        status_code: int | None,
        error: str | None,
        retry_at: datetime | None,
    ) -> None:
        """Log the attempt ``lease_due`` counted; schedule the next, or settle the delivery
        (and the job's ``webhook_status``)."""
        settled = "delivered" if delivered else ("pending" if retry_at else "failed")
        values: dict[str, Any] = {
            "last_status_code": status_code,
            "last_error": error,
            "status": settled,
        }
        if delivered:
            values["delivered_at"] = self.db.now()
        if retry_at is not None and not delivered:
            values["next_attempt_at"] = retry_at
        with self.db.write() as session:
            session.execute(update(DeliveryRow).where(DeliveryRow.id == delivery.id).values(values))
            if delivery.event in TERMINAL_EVENTS and settled != "pending":
                session.execute(
                    update(JobRow)
                    .where(JobRow.id == delivery.job_id)
                    .values(webhook_status=settled)
                )

    def for_job(self, job_id: str) -> list[Delivery]:
        with self.db.read() as session:
            rows = session.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.job_id == job_id)
                .order_by(DeliveryRow.created_at, DeliveryRow.id)
            ).all()
        return [_to_delivery(row) for row in rows]


def _settle_interrupted(session: Session, row: DeliveryRow, now: datetime) -> None:
    """The last attempt's sender stopped before it could say how it went: give up, and say so."""
    row.status = "failed"
    row.last_error = (
        f"attempt {row.attempts} of {row.max_attempts} was interrupted (the sending process "
        "stopped) and no attempt is left"
    )
    row.next_attempt_at = now
    if row.event in TERMINAL_EVENTS:
        session.execute(
            update(JobRow).where(JobRow.id == row.job_id).values(webhook_status="failed")
        )
