"""Jobs of one key beyond ``max_concurrent_jobs_per_key`` wait QUEUED, never refused: a claim
over the cap leaves the job as it was and the worker asks the queue to try again soon."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from selfjourney.domain.accounts import Account
from selfjourney.domain.commands import Imagine
from selfjourney.domain.status import JobStatus
from selfjourney.embedded import Embedded, build_embedded
from selfjourney.queue.local import LocalQueue
from selfjourney.store import Store
from selfjourney.store.runs import AtCap
from selfjourney.worker.worker import Worker
from tests.conftest import make_settings
from tests.fakes import PacedEngine
from tests.records import queued_job


@pytest.fixture
def capped(tmp_path: Path, database_url: str) -> Iterator[tuple[Embedded, LocalQueue]]:
    """A runtime whose jobs two worker threads run, at most one per key at a time."""
    settings = make_settings(
        tmp_path / "data", database_url=database_url, max_concurrent_jobs_per_key=1
    )
    runtime = build_embedded(settings, engine=PacedEngine(0.2))
    side = runtime.workers
    worker = Worker(
        store=runtime.store,
        renderer=side.worker.renderer,
        events=side.events,
        per_key_cap=1,
        cap_retry=0.05,
    )
    queue = LocalQueue(worker.run, workers=2)
    queue.start()
    yield runtime, queue
    queue.stop()
    runtime.store.close()


def _submit(runtime: Embedded, queue: LocalQueue, account: Account, count: int) -> list[str]:
    ids = []
    for n in range(count):
        job, _ = runtime.service.imagine(account, Imagine(f"fox {n}"))
        queue.enqueue(job.id)
        ids.append(job.id)
    return ids


def _statuses(store: Store, ids: list[str]) -> list[JobStatus]:
    """One snapshot of the jobs (one query): read one by one, a job seen PROCESSING just
    before it ended and the next one seen just after its claim would look like two at once."""
    by_id = {job.id: job.status for job in store.jobs.get_many(ids)}
    return [by_id[i] for i in ids if i in by_id]


def _watch(store: Store, ids: list[str], seconds: float = 10.0) -> list[list[JobStatus]]:
    """The jobs' statuses, sampled until every one has ended."""
    samples, gate, deadline = [], threading.Event(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(statuses := _statuses(store, ids))
        if all(status.is_terminal() for status in statuses):
            return samples
        gate.wait(0.01)
    raise AssertionError(f"jobs still running: {samples[-1]}")


def test_one_key_renders_at_most_its_cap(capped):
    runtime, queue = capped
    account, _ = runtime.store.accounts.create("capped", credits=1000)
    ids = _submit(runtime, queue, account, 3)
    samples = _watch(runtime.store, ids)
    assert max(s.count(JobStatus.PROCESSING) for s in samples) == 1
    assert samples[-1] == [JobStatus.COMPLETED] * 3
    # Waiting for the cap counts no attempt.
    assert {runtime.store.jobs.get(i).attempt for i in ids} == {1}


def test_another_key_is_not_held_back(capped):
    runtime, queue = capped
    busy, _ = runtime.store.accounts.create("busy", credits=1000)
    other, _ = runtime.store.accounts.create("other", credits=1000)
    first, *rest = _submit(runtime, queue, busy, 3)
    (own,) = _submit(runtime, queue, other, 1)
    _watch(runtime.store, [first, *rest, own])
    jobs = {i: runtime.store.jobs.get(i) for i in (first, *rest, own)}
    assert all(j is not None and j.status is JobStatus.COMPLETED for j in jobs.values())
    own_job, first_job = jobs[own], jobs[first]
    assert own_job is not None and first_job is not None
    assert own_job.started_at and first_job.completed_at
    assert own_job.started_at < first_job.completed_at  # ran beside the busy key's job


def test_concurrent_claims_never_pass_the_cap(database_url: str):
    """Eight workers claim eight jobs of one key at once: exactly ``cap`` win."""
    store = Store.connect(database_url)
    try:
        account, _ = store.accounts.create("k", credits=1000)
        ids = [store.jobs.create(queued_job(account.id))[0].id for _ in range(8)]
        start = threading.Barrier(8)

        def claim(job_id: str) -> bool:
            start.wait()
            try:
                return store.jobs.claim(job_id, lease=30, per_key_cap=2) is not None
            except AtCap:
                return False

        with ThreadPoolExecutor(8) as pool:
            won = list(pool.map(claim, ids))
        assert sum(won) == 2
        losers = [store.jobs.get(i) for i, w in zip(ids, won, strict=True) if not w]
        assert all(j is not None and (j.status, j.attempt) == (JobStatus.QUEUED, 0) for j in losers)
    finally:
        store.close()


def test_v2_me_shows_the_cap(tmp_path: Path):
    settings = make_settings(tmp_path / "data", workers=4, max_concurrent_jobs_per_key=2)
    runtime = build_embedded(settings)
    _, key = runtime.store.accounts.create("me", credits=10)
    try:  # no lifespan: the worker threads need not start
        me = TestClient(runtime.app()).get("/v2/me", headers={"X-API-Key": key}).json()
    finally:
        runtime.store.close()
    assert me["team"]["maxConcurrentJobs"] == 2
