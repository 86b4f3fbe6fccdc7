"""The fleet metrics' counts, on SQLite and PostgreSQL (grouped queries differ between them)."""

from __future__ import annotations

from datetime import timedelta

from selfjourney.store import Store
from selfjourney.store.deliveries import NewDelivery
from tests.records import queued_job


def _delivery(job_id: str) -> NewDelivery:
    return NewDelivery(job_id, "completed", "https://hooks.test/", b"{}", {}, max_attempts=3)


def test_tallies_count_jobs_queue_ledger_and_deliveries(database_url: str):
    store = Store.connect(database_url)
    try:
        account, _ = store.accounts.create("t", credits=100)
        jobs = [store.jobs.create(queued_job(account.id))[0] for _ in range(3)]
        assert store.jobs.claim(jobs[0].id, 30.0) is not None
        counts = {(c.status, c.kind, c.model): c.count for c in store.tallies.jobs()}
        assert counts == {
            ("QUEUED", "imagine", "default"): 2,
            ("PROCESSING", "imagine", "default"): 1,
        }
        assert store.tallies.queued() == 2
        assert store.tallies.ledger() == {"grant": 100, "charge": -48}

        store.deliveries.add([_delivery(job.id) for job in (*jobs, jobs[0])])
        delivered, retrying, failed = store.deliveries.lease_due(3, lambda _: timedelta(0))
        store.deliveries.record(delivered, True, 204, None, None)
        store.deliveries.record(retrying, False, 503, "receiver answered 503", store.now())
        store.deliveries.record(failed, False, 410, "receiver answered 410", None)
        assert store.tallies.deliveries() == {
            ("delivered", "completed"): 1,
            ("retrying", "completed"): 1,
            ("failed", "completed"): 1,
            ("pending", "completed"): 1,
        }
    finally:
        store.close()
