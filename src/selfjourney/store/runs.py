"""A job's run: claimed with a lease, renewed while it renders, ended once.

Every write about a running job names the attempt that holds it, so a worker whose lease ran
out (its job claimed again elsewhere) or whose job was cancelled changes nothing any more: it
learns so from the next renewal or progress write, and its result is refused.

A claim may also be held to a cap of PROCESSING jobs per key: it locks the key's account row
first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises
writers anyway), so two workers claiming jobs of one key count one after the other.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Table, bindparam, case, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from selfjourney.domain.jobs import Job
from selfjourney.domain.status import JobStatus
from selfjourney.store.accounts import record_movement
from selfjourney.store.database import Database
from selfjourney.store.deliveries import NewDelivery, add_deliveries
from selfjourney.store.models import AccountRow, JobRow
from selfjourney.store.rows import to_job

_jobs = cast(Table, JobRow.__table__)
_accounts = cast(Table, AccountRow.__table__)
_QUEUED, _PROCESSING = JobStatus.QUEUED.value, JobStatus.PROCESSING.value
_ACTIVE = (_QUEUED, _PROCESSING)
#: The run a write is about: this job, still PROCESSING, in this attempt.
_HELD = (
    _jobs.c.id == bindparam("job_id"),
    _jobs.c.status == _PROCESSING,
    _jobs.c.attempt == bindparam("run_attempt"),
)

_CLAIM = (
    update(_jobs)
    .where(_jobs.c.id == bindparam("job_id"), _jobs.c.status == _QUEUED)
    .values(
        status=_PROCESSING,
        attempt=_jobs.c.attempt + 1,
        started_at=bindparam("now"),
        lease_until=bindparam("until"),
        progress=0,
    )
    .returning(*_jobs.c)
)
#: The key of a job that can be claimed; its account row, locked; its jobs rendering now.
_OWNER = select(_jobs.c.account_id).where(
    _jobs.c.id == bindparam("job_id"), _jobs.c.status == _QUEUED
)
_LOCK_ACCOUNT = (
    select(_accounts.c.id).where(_accounts.c.id == bindparam("account_id")).with_for_update()
)
_RENDERING = (
    select(func.count())
    .select_from(_jobs)
    .where(_jobs.c.account_id == bindparam("account_id"), _jobs.c.status == _PROCESSING)
)
_RENEW = update(_jobs).where(*_HELD).values(lease_until=bindparam("until"))
_PROGRESS = (
    update(_jobs)
    .where(*_HELD)
    .values(
        progress=case(
            (_jobs.c.progress < bindparam("progress"), bindparam("progress")),
            else_=_jobs.c.progress,
        )
    )
)
_FINAL_COLUMNS = (
    "status",
    "progress",
    "result",
    "error",
    "refunded",
    "completed_at",
    "webhook_status",
    "mask",
)
_FINAL: dict[str, Any] = {name: bindparam(f"new_{name}") for name in _FINAL_COLUMNS}
_COMPLETE = update(_jobs).where(*_HELD).values(_FINAL)
#: A QUEUED job fails as it is; a PROCESSING one only in the attempt that holds it.
_FAIL = (
    update(_jobs)
    .where(
        _jobs.c.id == bindparam("job_id"),
        _jobs.c.status.in_(_ACTIVE),
        _jobs.c.attempt == bindparam("run_attempt"),
    )
    .values({**_FINAL, "lease_until": None})
)
_CANCEL = (
    update(_jobs)
    .where(_jobs.c.id == bindparam("job_id"), _jobs.c.status.in_(_ACTIVE))
    .values(
        status=JobStatus.CANCELLED.value,
        error=bindparam("error"),
        refunded=_jobs.c.cost > 0,
        completed_at=bindparam("now"),
        webhook_status=None,
        lease_until=None,
        mask=None,
    )
    .returning(*(c for c in _jobs.c if c.name != "mask"))
)
_REQUEUE = update(_jobs).where(*_HELD).values(status=_QUEUED, progress=0, lease_until=None)
#: A lapsed run goes back to the queue, unless it was renewed or ended meanwhile.
_RELEASE = (
    update(_jobs)
    .where(*_HELD, _jobs.c.lease_until < bindparam("now"))
    .values(status=_QUEUED, progress=0, lease_until=None)
)


class AtCap(Exception):
    """The job's key already renders its cap of jobs: the job stays QUEUED, untouched."""

    def __init__(self, account_id: str, cap: int) -> None:
        super().__init__(f"account {account_id} already renders {cap} jobs")
        self.account_id = account_id
        self.cap = cap


class Waiting(NamedTuple):
    """A queued job as a queue needs it: its id, priority and model (None: the default)."""

    id: str
    priority: int
    model: str | None


class Runs:
    """The running side of ``Jobs`` (a mixin: ``Jobs`` provides ``db``)."""

    db: Database

    def claim(
        self,
        job_id: str,
        lease: float,
        per_key_cap: int = 0,
        models: Collection[str | None] | None = None,
    ) -> tuple[Job, bytes | None] | None:
        """QUEUED -> PROCESSING for one worker, held for ``lease`` seconds; None when the job
        is not QUEUED (another worker has it, it ended, it was cancelled) or, given
        ``models``, its model is not one of them (None in it: jobs with no model named). With
        a ``per_key_cap``, AtCap when its key already has that many jobs PROCESSING."""
        now = self.db.now()
        params = {"job_id": job_id, "now": now, "until": now + timedelta(seconds=lease)}
        claim = _CLAIM if models is None else _CLAIM.where(_serves(models))
        with self.db.transaction() as connection:
            if per_key_cap > 0:
                _hold_slot(connection, job_id, per_key_cap)
            row = connection.execute(claim, params).one_or_none()
            if row is None:
                return None
            return to_job(row), row.mask

    def renew(self, job: Job, lease: float) -> bool:
        """Hold the job ``lease`` seconds more; False once it is not this run's any more."""
        until = self.db.now() + timedelta(seconds=lease)
        with self.db.transaction() as connection:
            return bool(_count(connection, _RENEW, {**_run(job), "until": until}))

    def set_progress(self, job: Job, progress: int) -> bool:
        """Record progress (it never goes down); False once the job is not this run's."""
        with self.db.transaction() as connection:
            return bool(_count(connection, _PROGRESS, {**_run(job), "progress": progress}))

    def complete(self, job: Job, deliveries: list[NewDelivery]) -> bool:
        """Store a COMPLETED job (and its webhook events) if this run still holds it."""
        assert job.status is JobStatus.COMPLETED and job.result is not None
        with self.db.transaction() as connection:
            done = _count(connection, _COMPLETE, _final_values(job))
            if done:
                add_deliveries(connection, deliveries, self.db.now())
            return bool(done)

    def fail(self, job: Job, deliveries: list[NewDelivery]) -> bool:
        """Store a FAILED job and refund its cost, once: only a job still queued, or still held
        by the run that fails it, can fail."""
        assert job.status is JobStatus.FAILED
        with self.db.transaction() as connection:
            done = _count(connection, _FAIL, _final_values(job))
            if not done:
                return False
            if job.cost:
                record_movement(
                    connection, job.account_id, job.cost, "refund", job.id, self.db.now()
                )
            add_deliveries(connection, deliveries, self.db.now())
            return True

    def cancel(self, job_id: str, reason: str) -> Job | None:
        """QUEUED or PROCESSING -> CANCELLED with its refund, once; None if it had ended.

        A worker rendering it finds out at its next progress write or renewal, and stops.
        """
        now = self.db.now()
        with self.db.transaction() as connection:
            row = connection.execute(
                _CANCEL, {"job_id": job_id, "error": reason, "now": now}
            ).one_or_none()
            if row is None:
                return None
            if row.cost:
                record_movement(connection, row.account_id, row.cost, "refund", job_id, now)
            return to_job(row)

    def requeue(self, job: Job) -> bool:
        """PROCESSING -> QUEUED, for an engine's Retry, if this run still holds the job."""
        with self.db.transaction() as connection:
            return bool(_count(connection, _REQUEUE, _run(job)))

    def lapsed(self, limit: int = 100) -> list[Job]:
        """PROCESSING jobs whose lease ran out: their worker stopped renewing (it died)."""
        query = (
            select(JobRow)
            .where(JobRow.status == _PROCESSING, JobRow.lease_until < self.db.now())
            .order_by(JobRow.lease_until)
            .limit(limit)
        )
        with self.db.read() as session:
            return [to_job(row) for row in session.scalars(query).all()]

    def release(self, job: Job) -> bool:
        """Put a lapsed run's job back in the queue; False if it was renewed or ended since."""
        with self.db.transaction() as connection:
            return bool(_count(connection, _RELEASE, {**_run(job), "now": self.db.now()}))

    def stranded(self, after: float, limit: int = 500) -> list[Job]:
        """QUEUED jobs a queue may have lost (a process died between accepting one and
        queueing it, a broker dropped its message), waiting ``after`` seconds since accepted or
        since last returned here; each is held off another ``after`` seconds. Sending one
        again is harmless: only one claim can win."""
        now = self.db.now()
        waited = now - timedelta(seconds=after)
        due = (JobRow.lease_until.is_(None) & (JobRow.created_at < waited)) | (
            JobRow.lease_until < now
        )
        with self.db.write() as session:
            rows = session.scalars(
                select(JobRow)
                .where(JobRow.status == _QUEUED, due)
                .order_by(JobRow.created_at)
                .limit(limit)
            ).all()
            jobs = [to_job(row) for row in rows]
            if jobs:
                session.execute(
                    update(JobRow)
                    .where(JobRow.id.in_([job.id for job in jobs]), JobRow.status == _QUEUED)
                    .values(lease_until=now + timedelta(seconds=after))
                )
        return jobs

    def recover(self) -> list[str]:
        """When one process owns the data dir (``serve`` on the embedded defaults) and starts:
        every interrupted run goes back to the queue; returns every queued id."""
        with self.db.write() as session:
            _count(
                session,
                update(JobRow)
                .where(JobRow.status == _PROCESSING)
                .values(status=_QUEUED, progress=0, lease_until=None),
            )
        return [waiting.id for waiting in self.waiting()]

    def waiting(self) -> list[Waiting]:
        """Every QUEUED job, highest priority and oldest first (to enqueue them again)."""
        with self.db.read() as session:
            rows = session.execute(
                select(JobRow.id, JobRow.priority, JobRow.render_model)
                .where(JobRow.status == _QUEUED)
                .order_by(JobRow.priority.desc(), JobRow.created_at)
            ).all()
        return [Waiting(*row) for row in rows]

    def stuck(self, started_before: datetime) -> list[Job]:
        """Jobs PROCESSING since before ``started_before``: a hung render (still renewed)."""
        with self.db.read() as session:
            rows = session.scalars(
                select(JobRow).where(
                    JobRow.status == _PROCESSING, JobRow.started_at < started_before
                )
            ).all()
            return [to_job(row) for row in rows]


def _hold_slot(connection: Connection, job_id: str, cap: int) -> None:
    """Lock the job's account row for this transaction and refuse (AtCap) when the key
    already renders ``cap`` jobs; a job that is not QUEUED is left to the claim to miss."""
    owner = connection.execute(_OWNER, {"job_id": job_id}).scalar_one_or_none()
    if owner is None:
        return
    connection.execute(_LOCK_ACCOUNT, {"account_id": owner})
    if connection.execute(_RENDERING, {"account_id": owner}).scalar_one() >= cap:
        raise AtCap(owner, cap)


def _run(job: Job) -> dict[str, Any]:
    return {"job_id": job.id, "run_attempt": job.attempt}


def _count(
    session: Session | Connection, statement: Executable, params: dict[str, Any] | None = None
) -> int:
    """Run an UPDATE and say how many rows it touched."""
    result = session.execute(statement, params)
    return int(cast(CursorResult[Any], result).rowcount)


def _final_values(job: Job) -> dict[str, Any]:
    return {
        **_run(job),
        "new_status": job.status.value,
        "new_progress": job.progress,
        "new_result": job.result.to_json() if job.result else None,
        "new_error": job.error,
        "new_refunded": job.refunded,
        "new_completed_at": job.completed_at,
        "new_webhook_status": job.webhook_status,
        "new_mask": None,
    }


def _serves(models: Collection[str | None]) -> Any:
    """The claim's condition on the job's model: one of ``models`` (None: NULL, the default)."""
    named = [model for model in models if model is not None]
    column = _jobs.c.render_model
    return or_(column.in_(named), column.is_(None)) if None in models else column.in_(named)
