"""``Service.wait``: a caller awaits a job on the feed, without a thread of its own, and gets
the row as it stands when the deadline comes."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from selfjourney.domain.commands import Imagine
from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.domain.status import JobStatus
from selfjourney.engines.procedural import ProceduralEngine
from selfjourney.engines.upscale import Lanczos
from selfjourney.feed.local import LocalFeed
from selfjourney.service import Service
from selfjourney.worker.render import Renderer
from selfjourney.worker.worker import Worker
from tests.fakes import SlowEngine
from tests.worker.test_worker import NoDeliveries


class Nowhere:
    def enqueue(self, job_id: str, priority: int = 0, model: str | None = None) -> None:
        pass


def _parts(store, storage, feed, engine=None):
    service = Service(
        store=store, storage=storage, queue=Nowhere(), costs=dict(DEFAULT_COSTS), feed=feed
    )
    renderer = Renderer(storage=storage, engine=engine or ProceduralEngine(), upscaler=Lanczos())
    worker = Worker(store=store, renderer=renderer, events=NoDeliveries(store), feed=feed)
    return service, worker


@pytest.mark.parametrize("feed", [LocalFeed(), None], ids=["feed", "no-feed"])
def test_wait_returns_the_finished_job(store, storage, feed):
    service, worker = _parts(store, storage, feed)
    account, _ = store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a fox"))

    async def main():
        threading.Timer(0.1, worker.run, (job.id,)).start()
        return await service.wait(account, job.id, timeout=30)

    started = time.monotonic()
    done = asyncio.run(main())
    assert done.status is JobStatus.COMPLETED and done.result is not None
    assert time.monotonic() - started < 10


def test_a_feed_wakes_the_waiter_as_soon_as_the_job_changes(store, storage):
    service, worker = _parts(store, storage, LocalFeed(), engine=SlowEngine())
    account, _ = store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a fox"))

    async def main():
        threading.Thread(target=worker.run, args=(job.id,), daemon=True).start()
        return await service.wait(account, job.id, until=lambda j: j.progress > 0, timeout=30)

    moving = asyncio.run(main())
    assert moving.status is JobStatus.PROCESSING and 0 < moving.progress < 100


def test_a_timeout_answers_the_job_as_it_stands(store, storage):
    service, _ = _parts(store, storage, LocalFeed())
    account, _ = store.accounts.create("t", credits=100)
    job, _ = service.imagine(account, Imagine("a fox"))
    started = time.monotonic()
    waited = asyncio.run(service.wait(account, job.id, timeout=0.2))
    assert waited.status is JobStatus.QUEUED and 0.2 <= time.monotonic() - started < 2


def test_hundreds_of_waiters_share_one_thread(store, storage):
    feed = LocalFeed()
    service, worker = _parts(store, storage, feed)
    account, _ = store.accounts.create("t", credits=10_000)
    job, _ = service.imagine(account, Imagine("a fox"))
    threads_before = threading.active_count()

    async def main():
        waiters = [service.wait(account, job.id, timeout=30) for _ in range(300)]
        gathered = asyncio.gather(*waiters)
        await asyncio.sleep(0.2)
        # 300 waiters, parked on the feed: no thread each (other tests may leave a few behind)
        assert feed.watching() == 300 and threading.active_count() < threads_before + 10
        await asyncio.to_thread(worker.run, job.id)
        return await gathered

    results = asyncio.run(main())
    assert {job.status for job in results} == {JobStatus.COMPLETED}
    assert feed.watching() == 0
