"""Leases, the watchdog and cancel, on the store and the worker directly: a worker that dies
loses its job to another within its lease, a job runs its attempts and then fails refunded, a
stale run stores nothing, and a cancel stops a queued or running job, refunded once."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest

from selfjourney.domain.commands import Imagine
from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.domain.errors import ActionUnavailable, NotFound
from selfjourney.domain.status import JobStatus
from selfjourney.engines.base import Picture, ProgressFn, Spec
from selfjourney.engines.procedural import ProceduralEngine
from selfjourney.engines.upscale import Lanczos
from selfjourney.service import Service
from selfjourney.worker.render import Renderer
from selfjourney.worker.watchdog import Watchdog
from selfjourney.worker.worker import Worker
from tests.clock import FakeClock
from tests.worker.test_worker import NoDeliveries

COST = DEFAULT_COSTS["imagine"]


class Recording:
    """A queue that records what goes back in."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, int]] = []

    def enqueue(self, job_id: str, priority: int = 0, model: str | None = None) -> None:
        self.enqueued.append((job_id, priority))


class SteppingEngine(ProceduralEngine):
    """Reports progress in ten steps, waiting a little at each, and counts the steps."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0
        self.first_step = threading.Event()

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        for step in range(1, 11):
            progress(step / 10)
            self.steps += 1
            self.first_step.set()
            time.sleep(0.1)  # the GPU's time for one step
        return super().generate(Spec(spec.prompt, spec.seed, 64, 64), count, progress)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed_store(tmp_path, clock):
    from selfjourney.store import Store

    s = Store.connect(f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    yield s
    s.close()


def _parts(store, storage, engine=None, lease=30.0):
    queue = Recording()
    service = Service(store=store, storage=storage, queue=queue, costs=dict(DEFAULT_COSTS))
    renderer = Renderer(storage=storage, engine=engine or ProceduralEngine(), upscaler=Lanczos())
    worker = Worker(
        store=store, renderer=renderer, events=NoDeliveries(store), lease=lease, max_attempts=3
    )
    watchdog = Watchdog(
        store=store, enqueue=queue.enqueue, fail=worker.fail, max_attempts=3, interval=10
    )
    return service, worker, watchdog, queue


def test_a_job_whose_worker_died_runs_again_once_its_lease_runs_out(timed_store, storage, clock):
    service, worker, watchdog, queue = _parts(timed_store, storage)
    account, _ = timed_store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a fox", priority=2))
    claimed = timed_store.jobs.claim(job.id, lease=30)  # a worker took it... and died
    assert claimed is not None and claimed[0].lease_until == clock.now + timedelta(seconds=30)
    clock.advance(seconds=29)
    assert watchdog.sweep() == 0  # still held
    clock.advance(seconds=2)
    assert watchdog.sweep() == 1 and queue.enqueued[-1] == (job.id, 2)
    queued = timed_store.jobs.get(job.id)
    assert queued is not None and queued.status is JobStatus.QUEUED and queued.attempt == 1
    worker.run(job.id)
    done = timed_store.jobs.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED and done.attempt == 2
    assert timed_store.accounts.get(account.id).credits == 100 - COST  # charged once


def test_a_stale_run_stores_nothing_once_its_job_was_taken_over(timed_store, storage, clock):
    service, worker, watchdog, _ = _parts(timed_store, storage)
    account, _ = timed_store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a fox"))
    stale = timed_store.jobs.claim(job.id, lease=30)
    assert stale is not None
    clock.advance(seconds=31)
    watchdog.sweep()
    worker.run(job.id)  # the second run completes it
    assert not timed_store.jobs.renew(stale[0], 30)
    assert not timed_store.jobs.set_progress(stale[0], 50)
    late = stale[0].moved(JobStatus.FAILED, error="late", refunded=True)
    assert not timed_store.jobs.fail(late, [])  # no second refund either
    done = timed_store.jobs.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED
    assert timed_store.accounts.get(account.id).credits == 100 - COST


def test_a_job_that_keeps_losing_its_worker_fails_refunded(timed_store, storage, clock):
    service, _, watchdog, queue = _parts(timed_store, storage)
    account, _ = timed_store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a fox"))
    for _ in range(3):
        assert timed_store.jobs.claim(job.id, lease=30) is not None
        clock.advance(seconds=31)
        watchdog.sweep()
    failed = timed_store.jobs.get(job.id)
    assert failed is not None and failed.status is JobStatus.FAILED and failed.refunded
    assert "its worker stopped, 3 times" in (failed.error or "")
    assert timed_store.accounts.get(account.id).credits == 100
    assert len(queue.enqueued) == 1 + 2  # submitted, then queued again twice


def test_one_process_wins_each_round(timed_store, clock):
    assert timed_store.rounds.take("watchdog", "a", 8)
    assert not timed_store.rounds.take("watchdog", "b", 8)
    clock.advance(seconds=8)
    assert timed_store.rounds.take("watchdog", "b", 8)
    assert timed_store.rounds.take("janitor", "a", 8)  # each chore has its own rounds


def test_a_cancelled_queued_job_never_starts_and_is_refunded_once(store, storage):
    engine = SteppingEngine()
    service, worker, _, _ = _parts(store, storage, engine)
    account, _ = store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a fox"))
    cancelled = service.cancel(account, job.id)
    assert cancelled.status is JobStatus.CANCELLED and cancelled.refunded
    assert cancelled.credit_cost == 0 and cancelled.error == "Job cancelled by its owner"
    worker.run(job.id)
    assert engine.steps == 0
    with pytest.raises(ActionUnavailable, match="is CANCELLED"):
        service.cancel(account, job.id)
    ledger = [entry.reason for entry in store.accounts.ledger(account.id)]
    assert ledger == ["grant", "charge", "refund"]


def test_a_rendering_job_stops_at_its_next_step_when_cancelled(store, storage):
    engine = SteppingEngine()
    service, worker, _, _ = _parts(store, storage, engine)
    account, _ = store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a fox"))
    running = threading.Thread(target=worker.run, args=(job.id,))
    running.start()
    assert engine.first_step.wait(10)
    service.cancel(account, job.id)
    steps_at_cancel = engine.steps
    running.join(10)
    assert not running.is_alive()
    assert engine.steps <= steps_at_cancel + 1  # within one step
    ended = store.jobs.get(job.id)
    assert ended is not None and ended.status is JobStatus.CANCELLED and ended.result is None
    assert store.accounts.get(account.id).credits == 100


def test_cancel_refuses_what_it_cannot_stop(store, storage):
    service, worker, _, _ = _parts(store, storage)
    account, _ = store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a fox"))
    worker.run(job.id)
    with pytest.raises(ActionUnavailable, match="is COMPLETED"):
        service.cancel(account, job.id)
    other, _ = store.accounts.create("other", credits=100)
    with pytest.raises(NotFound):
        service.cancel(other, job.id)


def test_a_renewal_keeps_a_slow_render_its_own(store, storage):
    leases: list[datetime] = []

    class Watching(SteppingEngine):
        """Reads the job's lease at every step of a render longer than the lease."""

        def generate(self, spec, count, progress):
            def watched(fraction: float) -> None:
                progress(fraction)
                row = store.jobs.get(job.id)
                assert row is not None and row.lease_until is not None
                leases.append(row.lease_until)

            return super().generate(spec, count, watched)

    service, worker, _, _ = _parts(store, storage, Watching(), lease=0.6)
    account, _ = store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a fox"))
    worker.run(job.id)  # about 1 s of steps, with a lease of 0.6 s renewed every 0.2 s
    done = store.jobs.get(job.id)
    assert done is not None and done.status is JobStatus.COMPLETED and done.attempt == 1
    assert len(set(leases)) >= 3 and leases == sorted(leases)  # renewed, always forward
