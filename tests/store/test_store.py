"""Store operations on SQLite and PostgreSQL: claims, ledger invariants, recovery."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from selfjourney.domain.errors import InsufficientCredits, InvalidInput, NotFound
from selfjourney.domain.jobs import Result
from selfjourney.domain.status import JobStatus
from selfjourney.store import Store
from tests.records import queued_job


@pytest.fixture
def store(database_url: str):
    s = Store.connect(database_url)
    yield s
    s.close()


def test_migrations_are_idempotent(database_url: str):
    Store.connect(database_url).close()
    Store.connect(database_url).close()


def test_keys_are_stored_only_as_hashes(store: Store):
    account, raw = store.accounts.create("k", credits=5)
    assert raw.startswith("afk_") and len(raw) >= 36 and raw not in account.key_hash
    assert store.accounts.find(raw).id == account.id
    assert store.accounts.find(account.key_prefix).id == account.id
    with pytest.raises(NotFound):
        store.accounts.find("afk_nope")


def test_credits_never_go_negative(store: Store):
    account, _ = store.accounts.create("k", credits=20)
    store.jobs.create(queued_job(account.id))
    with pytest.raises(InsufficientCredits) as caught:
        store.jobs.create(queued_job(account.id))
    assert (caught.value.required, caught.value.available) == (16, 4)
    with pytest.raises(InvalidInput):
        store.accounts.add_credits(account.id, -5)
    assert store.accounts.add_credits(account.id, -4) == 0


def test_only_one_worker_claims_a_job(store: Store):
    account, _ = store.accounts.create("k", credits=100)
    job, _ = store.jobs.create(queued_job(account.id))
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: store.jobs.claim(job.id, lease=30), range(8)))
    assert sum(claim is not None for claim in claims) == 1


def test_complete_and_fail_happen_once(store: Store):
    account, _ = store.accounts.create("k", credits=100)
    job, _ = store.jobs.create(queued_job(account.id))
    claimed = store.jobs.claim(job.id, lease=30)
    assert claimed is not None
    running = claimed[0]
    done = running.moved(JobStatus.COMPLETED, result=Result(["a"], None, 8, 8), progress=100)
    assert store.jobs.complete(done, []) is True
    assert store.jobs.complete(done, []) is False
    failed = replace(running.moved(JobStatus.FAILED, error="x", refunded=True))
    assert store.jobs.fail(failed, []) is False  # already completed: no refund
    assert store.accounts.get(account.id).credits == 84


def test_recover_requeues_interrupted_work(store: Store):
    account, _ = store.accounts.create("k", credits=100)
    first, _ = store.jobs.create(queued_job(account.id))
    second, _ = store.jobs.create(queued_job(account.id))
    assert store.jobs.claim(first.id, lease=30) is not None
    assert store.jobs.recover() == [first.id, second.id]
    job = store.jobs.get(first.id)
    assert job is not None and job.status is JobStatus.QUEUED and job.attempt == 1
    claimed = store.jobs.claim(first.id, lease=30)
    assert claimed is not None and claimed[0].attempt == 2


def test_ledger_sums_to_the_balance(store: Store):
    account, _ = store.accounts.create("k", credits=100)
    for _ in range(3):
        job, _ = store.jobs.create(queued_job(account.id))
        claimed = store.jobs.claim(job.id, lease=30)
        assert claimed is not None
        store.jobs.fail(claimed[0].moved(JobStatus.FAILED, error="x", refunded=True), [])
    store.jobs.create(queued_job(account.id, cost=4))
    entries = store.accounts.ledger(account.id)
    assert sum(e.delta for e in entries) == store.accounts.get(account.id).credits == 96
    assert [e.balance_after for e in entries][-1] == 96
