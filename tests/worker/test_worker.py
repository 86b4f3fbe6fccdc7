"""The worker called directly, as a queue calls it: claim, render on a fake engine, store the
images, finish once; failures refund, retries count, a second run of a job does nothing."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image

from selfjourney.domain.accounts import Account
from selfjourney.domain.commands import Act, Imagine
from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.domain.jobs import Job
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex
from selfjourney.domain.sizes import Direction
from selfjourney.domain.status import JobStatus
from selfjourney.engines.base import Frame, Picture, ProgressFn, Retry, Spec
from selfjourney.engines.upscale import Lanczos
from selfjourney.service import Service
from selfjourney.storage.local import LocalStorage
from selfjourney.store import Store
from selfjourney.webhooks.events import Events
from selfjourney.worker.render import Renderer
from selfjourney.worker.worker import MAX_ATTEMPTS, Worker


@dataclass
class FakeEngine:
    """Solid pictures of the spec's size, one grey level per picture; records every call."""

    name: str = "fake"
    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail_with: BaseException | None = None

    def describe(self) -> str:
        return self.name

    def load(self) -> None:
        pass

    def _pictures(
        self, call: str, spec: Spec, count: int, progress: ProgressFn, extra: Any
    ) -> list[Picture]:
        self.calls.append((call, extra if extra is not None else spec))
        if self.fail_with is not None:
            raise self.fail_with
        for step in range(1, 5):
            progress(step / 4)
        size = (spec.width, spec.height)
        return [Picture(Image.new("RGB", size, (40 * n,) * 3), {"n": n}) for n in range(count)]

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        return self._pictures("generate", spec, count, progress, None)

    def vary(self, source, spec, strength, count, progress):
        return self._pictures("vary", spec, count, progress, strength)

    def extend(self, source, spec: Spec, frame: Frame, count, progress):
        return self._pictures("extend", spec, count, progress, frame)

    def inpaint(self, source, spec, mask, count, progress):
        return self._pictures("inpaint", spec, count, progress, mask.size)

    def refine(self, source, spec, strength, progress):
        return self._pictures("refine", spec, 1, progress, strength)[0]


class NoDeliveries(Events):
    """Events for jobs without webhooks: nothing to render or send."""

    def __init__(self, store: Store) -> None:
        super().__init__(store=store, styles={}, url=str, max_attempts=1, progress_interval=0)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def worker(store: Store, storage: LocalStorage, engine: FakeEngine) -> Worker:
    renderer = Renderer(storage=storage, engine=engine, upscaler=Lanczos())
    return Worker(store=store, renderer=renderer, events=NoDeliveries(store))


@pytest.fixture
def account(store: Store) -> Account:
    return store.accounts.create("test", credits=200)[0]


@pytest.fixture
def service(store: Store, storage: LocalStorage) -> Service:
    class Nowhere:
        def enqueue(self, job_id: str, priority: int = 0, model: str | None = None) -> None:
            pass

    return Service(store=store, storage=storage, queue=Nowhere(), costs=dict(DEFAULT_COSTS))


def _job(store: Store, job_id: str) -> Job:
    job = store.jobs.get(job_id)
    assert job is not None
    return job


def _image(storage: LocalStorage, key: str) -> Image.Image:
    with Image.open(io.BytesIO(storage.get(key))) as image:
        return image.convert("RGB")


def test_a_grid_is_rendered_stored_and_completed(store, storage, engine, worker, service, account):
    job, _ = service.imagine(account, Imagine("a cat --seed 5", aspect_ratio="16:9"))
    assert worker.run(job.id) is None
    done = _job(store, job.id)
    assert done.status is JobStatus.COMPLETED and done.progress == 100 and done.attempt == 1
    assert done.result is not None and len(done.result.images) == 4
    [(call, spec)] = engine.calls
    assert call == "generate" and (spec.seed, spec.prompt) == (5, "a cat")
    assert (spec.width, spec.height) == (1368, 768)
    for n, key in enumerate(done.result.images):
        assert _image(storage, key).getpixel((0, 0)) == (40 * n,) * 3
    assert done.result.grid and _image(storage, done.result.grid).size == (2736, 1536)
    assert done.result.recipes == [{"n": n} for n in range(4)]


def test_a_job_runs_once_however_often_it_is_delivered(store, engine, worker, service, account):
    job, _ = service.imagine(account, Imagine("a cat"))
    worker.run(job.id)
    worker.run(job.id)
    assert len(engine.calls) == 1 and _job(store, job.id).status is JobStatus.COMPLETED


def test_an_engine_failure_fails_the_job_with_a_refund(store, engine, worker, service, account):
    engine.fail_with = MemoryError("CUDA")
    job, _ = service.imagine(account, Imagine("a cat"))
    assert store.accounts.get(account.id).credits == 200 - 16
    worker.run(job.id)
    failed = _job(store, job.id)
    assert failed.status is JobStatus.FAILED and failed.refunded and failed.progress == 0
    assert failed.error == "Image generation failed: out of memory"
    assert store.accounts.get(account.id).credits == 200


def test_a_retry_puts_the_job_back_until_the_attempts_run_out(
    store, engine, worker, service, account
):
    engine.fail_with = Retry("device busy", defer=2.5)
    job, _ = service.imagine(account, Imagine("a cat"))
    for attempt in range(1, MAX_ATTEMPTS):
        assert worker.run(job.id) == 2.5
        again = _job(store, job.id)
        assert again.status is JobStatus.QUEUED and again.attempt == attempt
    assert worker.run(job.id) is None
    failed = _job(store, job.id)
    assert failed.status is JobStatus.FAILED and "after 3 attempts: device busy" in (
        failed.error or ""
    )
    assert store.accounts.get(account.id).credits == 200


def _grid(store, worker, service, account) -> Job:
    job, _ = service.imagine(account, Imagine("a cat --chaos 40"))
    worker.run(job.id)
    return _job(store, job.id)


def test_each_action_asks_the_engine_for_its_own_call(store, engine, worker, service, account):
    grid = _grid(store, worker, service, account)
    subtle, _ = service.act(
        account, Act(grid.id, JobKind.VARIATION, ActionArgs(GridIndex(2), strength="subtle"))
    )
    worker.run(subtle.id)
    assert engine.calls[-1] == ("vary", 0.35)
    pan, _ = service.act(
        account, Act(grid.id, JobKind.PAN, ActionArgs(GridIndex(1), direction=Direction.LEFT))
    )
    worker.run(pan.id)
    call, frame = engine.calls[-1]
    assert call == "extend" and frame == Frame(box=(-512, 0, 1024, 1024), size=(1536, 1024))
    assert _job(store, pan.id).result is not None


def test_an_upsample_is_the_grid_image_byte_for_byte(store, storage, worker, service, account):
    grid = _grid(store, worker, service, account)
    assert grid.result is not None
    job, _ = service.act(account, Act(grid.id, JobKind.UPSAMPLE, ActionArgs(GridIndex(3))))
    worker.run(job.id)
    done = _job(store, job.id)
    assert done.result is not None and done.result.recipes == [{"n": 2}]
    assert storage.get(done.result.images[0]) == storage.get(grid.result.images[2])


def test_a_creative_upscale_runs_the_engines_detail_pass(store, engine, worker, service, account):
    grid = _grid(store, worker, service, account)
    args = ActionArgs(GridIndex(1), factor=2, mode="creative")
    job, _ = service.act(account, Act(grid.id, JobKind.UPSCALE, args))
    worker.run(job.id)
    done = _job(store, job.id)
    assert engine.calls[-1] == ("refine", 0.3)
    assert done.result is not None and (done.result.width, done.result.height) == (2048, 2048)


def test_progress_is_written_while_rendering(store, storage, service, account):
    seen: list[int] = []

    class Watching(FakeEngine):
        def generate(self, spec, count, progress):
            def watched(fraction: float) -> None:
                progress(fraction)
                job = store.jobs.get(job_id)
                assert job is not None
                seen.append(job.progress)

            return super().generate(spec, count, watched)

    renderer = Renderer(storage=storage, engine=Watching(), upscaler=Lanczos())
    worker = Worker(store=store, renderer=renderer, events=NoDeliveries(store))
    job_id = service.imagine(account, Imagine("a cat"))[0].id
    worker.run(job_id)
    assert seen and seen[0] > 0 and seen == sorted(seen) and max(seen) < 100
