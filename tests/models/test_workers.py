"""A worker serves some models: it makes each engine once, claims only its models' jobs, and
every way back into the queue (submission, watchdog, restart) carries the job's model."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfjourney.api import build_service
from selfjourney.config import Misconfigured
from selfjourney.dialects.registry import webhook_styles
from selfjourney.domain.commands import Act, Imagine
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex
from selfjourney.domain.status import JobStatus
from selfjourney.embedded import build_embedded
from selfjourney.engines.base import Engine
from selfjourney.engines.procedural import ProceduralEngine
from selfjourney.worker.models import ModelEngines, UnservedModel
from selfjourney.worker.side import build_worker_side
from selfjourney.worker.watchdog import Watchdog
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.midapi.fakes import SmallEngine

MODELS = {"v7": {}, "niji6": {"aliases": ["niji"]}}


class Recording:
    """A queue that records (job id, priority, model) and runs nothing."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, int, str | None]] = []

    def enqueue(self, job_id: str, priority: int = 0, model: str | None = None) -> None:
        self.enqueued.append((job_id, priority, model))


def test_each_engine_is_made_once_and_only_for_served_models():
    made: list[str] = []

    def maker(name: str):
        def make() -> Engine:
            made.append(name)
            return ProceduralEngine()

        return make

    engines = ModelEngines(
        {"v7": maker("v7"), "niji6": maker("niji6")}, default="v7", serves=["niji6"]
    )
    assert engines.for_model("niji6") is engines.for_model("niji6")
    engines.load()
    assert made == ["niji6"] and engines.claimable() == ("niji6",)
    with pytest.raises(UnservedModel):
        engines.for_model(None)  # the default, v7, is not served here
    everything = ModelEngines({"v7": maker("v7")}, default="v7")
    assert everything.claimable() is None and everything.for_model(None) is everything.for_model(
        "v7"
    )
    serving_default = ModelEngines(
        {"v7": maker("v7"), "x": maker("x")}, default="v7", serves=["v7"]
    )
    assert serving_default.claimable() == ("v7", None)  # jobs from before 0006 too


def test_a_worker_takes_only_the_jobs_of_its_models(tmp_path: Path):
    settings = make_settings(tmp_path / "data", models=MODELS, upscaler="lanczos")
    api = build_embedded(settings, engine=SmallEngine())  # its queue has no threads
    account, _ = api.store.accounts.create("t", credits=100)
    v7, _ = api.service.imagine(account, Imagine("a fox"))
    niji, _ = api.service.imagine(account, Imagine("a fox --niji 6"))
    nijis = build_worker_side(
        settings,
        store=api.store,
        storage=api.storage,
        styles=webhook_styles(settings),
        engine=SmallEngine(),
        models=["niji6"],
    )
    assert nijis.worker.run(v7.id) is None
    left = api.store.jobs.get(v7.id)
    assert left is not None and left.status is JobStatus.QUEUED and left.attempt == 0
    nijis.worker.run(niji.id)
    done = api.store.jobs.get(niji.id)
    assert done is not None and done.status is JobStatus.COMPLETED
    assert nijis.engines.served == ("niji6",)
    api.queue.drain()  # the embedded worker renders every model
    rendered = api.store.jobs.get(v7.id)
    assert rendered is not None and rendered.status is JobStatus.COMPLETED
    nijis.stop()
    api.stop()


def test_a_worker_asked_for_an_unknown_model_refuses_to_start(tmp_path: Path):
    settings = make_settings(tmp_path / "data", models=MODELS)
    api = build_embedded(settings)
    with pytest.raises(Misconfigured, match="niji7"):
        build_worker_side(
            settings, store=api.store, storage=api.storage, styles={}, models=["niji7"]
        )
    api.store.close()


def test_the_model_goes_with_the_job_into_the_queue_every_time(tmp_path: Path):
    clock = FakeClock()
    settings = make_settings(tmp_path / "data", models=MODELS, inline_upsample=False)
    runtime = build_embedded(settings, engine=SmallEngine(), clock=clock)
    queue = Recording()  # stands in for the fleet's queue
    service = build_service(
        settings, store=runtime.store, storage=runtime.storage, queue=queue, max_concurrent_jobs=1
    )
    account, _ = runtime.store.accounts.create("t", credits=1000)
    grid, _ = service.imagine(account, Imagine("a fox --niji", priority=2))
    assert queue.enqueued == [(grid.id, 2, "niji6")]
    runtime.workers.worker.run(grid.id)
    child, _ = service.act(account, Act(grid.id, JobKind.VARIATION, ActionArgs(GridIndex(1))))
    assert queue.enqueued[-1] == (child.id, 0, "niji6")  # the parent's model
    assert runtime.store.jobs.claim(child.id, lease=30) is not None  # ... and its worker died
    clock.advance(seconds=31)
    watchdog = Watchdog(
        store=runtime.store,
        enqueue=queue.enqueue,
        fail=runtime.workers.worker.fail,
        max_attempts=3,
        interval=10,
    )
    assert watchdog.sweep() == 1 and queue.enqueued[-1] == (child.id, 0, "niji6")
    waiting = runtime.store.jobs.waiting()
    assert [(w.id, w.model) for w in waiting] == [(child.id, "niji6")]
    runtime.stop()
