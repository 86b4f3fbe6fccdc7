"""Job rows: creation with its debit and idempotency, reads, pages and retention; the running
side (claims, leases, progress, the end of a run) is ``runs``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from selfjourney.domain.commands import Idempotency
from selfjourney.domain.errors import (
    ActionUnavailable,
    IdempotencyConflict,
    InsufficientCredits,
    NotFound,
)
from selfjourney.domain.jobs import Job
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.pages import Cursor, Page
from selfjourney.domain.status import JobStatus
from selfjourney.store.accounts import record_movement
from selfjourney.store.database import Database
from selfjourney.store.held import held_table
from selfjourney.store.models import AccountRow, IdempotencyRow, JobRow
from selfjourney.store.rows import row_values, to_job
from selfjourney.store.runs import Runs

IDEMPOTENCY_TTL = timedelta(hours=24)
_ACTIVE = (JobStatus.QUEUED.value, JobStatus.PROCESSING.value)


_jobs = cast(Table, JobRow.__table__)
_INSERT_JOB = insert(_jobs)
_BY_ID = select(*(c for c in _jobs.c if c.name != "mask")).where(_jobs.c.id == bindparam("job_id"))
_keys = cast(Table, IdempotencyRow.__table__)
_INSERT_KEY = insert(_keys)
_KEY_MATCH = (_keys.c.account_id == bindparam("account_id"), _keys.c.key == bindparam("key"))
_KEY = select(_keys).where(*_KEY_MATCH)
_FORGET_KEY = delete(_keys).where(*_KEY_MATCH)


def _key_params(account_id: str, idempotency: Idempotency) -> dict[str, str]:
    return {"account_id": account_id, "key": idempotency.key}


_CONSUME_HOLD = delete(held_table).where(held_table.c.id == bindparam("held_id"))
_QUEUED = JobStatus.QUEUED.value
_ME = (
    select(_jobs.c.priority, _jobs.c.created_at)
    .where(_jobs.c.id == bindparam("job_id"), _jobs.c.status == _QUEUED)
    .subquery()
)
#: QUEUED jobs that run before this one (higher priority, or the same and older); none when
#: the job itself is not QUEUED (already running, or done inline).
_AHEAD = (
    select(func.count())
    .select_from(_jobs.join(_ME, true()))
    .where(
        _jobs.c.status == _QUEUED,
        _jobs.c.id != bindparam("job_id"),
        or_(
            _jobs.c.priority > _ME.c.priority,
            and_(_jobs.c.priority == _ME.c.priority, _jobs.c.created_at < _ME.c.created_at),
        ),
    )
)


class Jobs(Runs):
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        job: Job,
        idempotency: Idempotency | None = None,
        mask: bytes | None = None,
        consumes: str | None = None,
    ) -> tuple[Job, bool]:
        """Debit, insert the job and its idempotency key in one transaction.

        Returns (job, replayed): a replayed Idempotency-Key gives the original job back.
        ``consumes`` names a held action the job confirms: it is deleted in the same
        transaction, and ActionUnavailable is raised if it is gone (confirmed already).
        """
        for _ in range(3):
            try:
                return self._create_once(job, idempotency, mask, consumes)
            except IntegrityError:  # a concurrent request took the same Idempotency-Key
                continue
        raise IdempotencyConflict(idempotency.key if idempotency else "")

    def _create_once(
        self, job: Job, idempotency: Idempotency | None, mask: bytes | None, consumes: str | None
    ) -> tuple[Job, bool]:
        with self.db.transaction() as connection:
            if idempotency is not None:
                original = self._replay(connection, job.account_id, idempotency)
                if original is not None:
                    return original, True
            if consumes is not None and not _count(
                connection, _CONSUME_HOLD, {"held_id": consumes}
            ):
                raise ActionUnavailable(
                    f"task {consumes} is no longer waiting for its confirmation",
                    consumes,
                    job.kind.value,
                )
            now = self.db.now()
            if job.cost and (
                record_movement(connection, job.account_id, -job.cost, "charge", job.id, now)
                is None
            ):
                available = connection.execute(
                    select(AccountRow.credits).where(AccountRow.id == job.account_id)
                ).scalar_one_or_none()
                raise InsufficientCredits(job.cost, int(available or 0))
            connection.execute(_INSERT_JOB, row_values(job, mask))
            if idempotency is not None:
                connection.execute(_FORGET_KEY, _key_params(job.account_id, idempotency))
                connection.execute(
                    _INSERT_KEY,
                    {
                        **_key_params(job.account_id, idempotency),
                        "fingerprint": idempotency.fingerprint,
                        "job_id": job.id,
                        "created_at": now,
                    },
                )
        return job, False

    def replay(self, account_id: str, idempotency: Idempotency) -> Job | None:
        """The job an unexpired Idempotency-Key made; IdempotencyConflict for another body."""
        with self.db.connection() as connection:
            return self._replay(connection, account_id, idempotency)

    def _replay(self, connection: Connection, account_id: str, idem: Idempotency) -> Job | None:
        row = connection.execute(_KEY, _key_params(account_id, idem)).one_or_none()
        if row is None or row.created_at < self.db.now() - IDEMPOTENCY_TTL:
            return None  # an expired use of the key gives way to the new request
        if row.fingerprint != idem.fingerprint:
            raise IdempotencyConflict(idem.key)
        original = connection.execute(_BY_ID, {"job_id": row.job_id}).one_or_none()
        return to_job(original) if original else None

    def get(self, job_id: str) -> Job | None:
        with self.db.connection() as connection:
            row = connection.execute(_BY_ID, {"job_id": job_id}).one_or_none()
            return to_job(row) if row else None

    def get_many(self, job_ids: list[str]) -> list[Job]:
        """The jobs among ``job_ids`` that exist, in one query (any order)."""
        if not job_ids:
            return []
        query = select(*(c for c in _jobs.c if c.name != "mask")).where(
            _jobs.c.id.in_(set(job_ids))
        )
        with self.db.connection() as connection:
            return [to_job(row) for row in connection.execute(query).all()]

    def waiting_ahead(self, job_id: str) -> int:
        """How many QUEUED jobs run before this one; 0 unless it is QUEUED itself."""
        with self.db.connection() as connection:
            return int(connection.execute(_AHEAD, {"job_id": job_id}).scalar_one())

    def get_owned(self, account_id: str, job_id: str) -> Job:
        """The job if this account made it; otherwise NotFound, whoever owns it."""
        job = self.get(job_id)
        if job is None or job.account_id != account_id:
            raise NotFound(job_id)
        return job

    def page(
        self,
        account_id: str,
        limit: int,
        after: Cursor | None = None,
        status: str | None = None,
        model: str | None = None,
        search: str | None = None,
    ) -> Page:
        """Newest first, keyed on (created_at desc, id desc)."""
        query = select(JobRow).where(JobRow.account_id == account_id)
        if search:
            query = query.where(JobRow.id == search)
        if status:
            query = query.where(JobRow.status == status)
        if model:
            query = query.where(JobRow.model == model)
        if after is not None:
            query = query.where(
                or_(
                    JobRow.created_at < after.created_at,
                    and_(JobRow.created_at == after.created_at, JobRow.id < after.job_id),
                )
            )
        query = query.order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit + 1)
        with self.db.read() as session:
            jobs = [to_job(row) for row in session.scalars(query).all()]
        more = len(jobs) > limit
        jobs = jobs[:limit]
        return Page(jobs, Cursor.after(jobs[-1]).encode() if more and jobs else None)

    def models(self, account_id: str) -> list[str]:
        with self.db.read() as session:
            found = session.scalars(
                select(JobRow.model).where(JobRow.account_id == account_id).distinct()
            ).all()
        return sorted(found)

    def images_made(self, account_id: str) -> int:
        """Images the account's COMPLETED jobs produced (4 a grid, 1 an upsample or upscale)."""
        query = (
            select(JobRow.kind, func.count())
            .where(JobRow.account_id == account_id, JobRow.status == JobStatus.COMPLETED.value)
            .group_by(JobRow.kind)
        )
        with self.db.read() as session:
            counts = session.execute(query).all()
        single = (JobKind.UPSAMPLE.value, JobKind.UPSCALE.value)
        return sum(n * (1 if kind in single else 4) for kind, n in counts)

    def expiring(self, completed_before: datetime, limit: int = 500) -> list[Job]:
        """Finished jobs older than the retention window whose images are still kept."""
        with self.db.read() as session:
            rows = session.scalars(
                select(JobRow)
                .where(
                    JobRow.status.in_(
                        (
                            JobStatus.COMPLETED.value,
                            JobStatus.FAILED.value,
                            JobStatus.CANCELLED.value,
                        )
                    ),
                    JobRow.expired.is_(False),
                    JobRow.completed_at < completed_before,
                )
                .limit(limit)
            ).all()
            return [to_job(row) for row in rows]

    def mark_expired(self, job_id: str) -> None:
        with self.db.write() as session:
            _count(session, update(JobRow).where(JobRow.id == job_id).values(expired=True))

    def prune_idempotency(self) -> int:
        with self.db.write() as session:
            cutoff = self.db.now() - IDEMPOTENCY_TTL
            return _count(session, delete(IdempotencyRow).where(IdempotencyRow.created_at < cutoff))


def _count(
    session: Session | Connection, statement: Executable, params: dict[str, Any] | None = None
) -> int:
    """Run an UPDATE/DELETE and say how many rows it touched."""
    result = session.execute(statement, params)
    return int(cast(CursorResult[Any], result).rowcount)
