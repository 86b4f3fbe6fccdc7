"""Job rows and job records, one into the other."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from selfjourney.domain.jobs import Job, Result, Webhook
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import JobParams
from selfjourney.domain.status import JobStatus
from selfjourney.store.models import JobRow


def to_job(row: JobRow | Row[Any]) -> Job:
    webhook = None
    if row.webhook_url:
        webhook = Webhook(
            url=row.webhook_url,
            events=frozenset(row.webhook_events or ()),
            secret=row.webhook_secret,
        )
    return Job(
        id=row.id,
        account_id=row.account_id,
        kind=JobKind(row.kind),
        status=JobStatus(row.status),
        prompt=row.prompt,
        params=JobParams.from_json(row.params),
        input=dict(row.input),
        dialect=row.dialect,
        seed=row.seed,
        cost=row.cost,
        created_at=row.created_at,
        model=row.model,
        render_model=row.render_model,
        parent_id=row.parent_id,
        progress=row.progress,
        refunded=row.refunded,
        result=Result.from_json(row.result) if row.result else None,
        error=row.error,
        webhook=webhook,
        webhook_status=row.webhook_status,
        attempt=row.attempt,
        lease_until=row.lease_until,
        started_at=row.started_at,
        completed_at=row.completed_at,
        expired=row.expired,
    )


def row_values(job: Job, mask: bytes | None) -> dict[str, Any]:
    return dict(
        id=job.id,
        account_id=job.account_id,
        kind=job.kind.value,
        status=job.status.value,
        model=job.model,
        render_model=job.render_model,
        dialect=job.dialect,
        parent_id=job.parent_id,
        prompt=job.prompt,
        params=job.params.to_json(),
        input=job.input,
        seed=job.seed,
        cost=job.cost,
        refunded=False,
        progress=job.progress,
        webhook_url=job.webhook.url if job.webhook else None,
        webhook_events=sorted(job.webhook.events) if job.webhook else None,
        webhook_status=job.webhook_status,
        webhook_secret=job.webhook.secret if job.webhook else None,
        attempt=job.attempt,
        priority=job.params.priority,
        created_at=job.created_at,
        expired=False,
        mask=mask,
        result=None,
        error=None,
        started_at=job.started_at,
        lease_until=job.lease_until,
        completed_at=None,
    )
