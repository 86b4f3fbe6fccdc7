"""The fleet's two processes (``SELFJOURNEY_QUEUE=celery``): an API process that accepts jobs
and never renders, and a worker process that renders and needs no FastAPI app.

Both share the database (which must be upgraded first: ``selfjourney db upgrade``; neither
migrates), the storage and the broker. Watchdog and janitor run in every worker process; each
round is taken in the database, so one process does it.

Usage::

    app = build_api_process(settings).app()              # selfjourney serve
    build_worker_process(settings, models=["v7"]).run()   # selfjourney worker
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import FastAPI

from selfjourney.api import build_service, create_app
from selfjourney.config import Misconfigured, Settings
from selfjourney.dialects.registry import DIALECTS, webhook_styles
from selfjourney.feed.local import LocalFeed
from selfjourney.feed.select import build_feed
from selfjourney.observe.metrics import FleetCollector, serve_metrics
from selfjourney.queue.celery import CeleryQueue, celery_app, register_runner
from selfjourney.queue.celery import run_worker as consume
from selfjourney.service import Service
from selfjourney.storage.base import Storage
from selfjourney.storage.select import build_storage, local_images
from selfjourney.store import Store
from selfjourney.worker.side import WorkerSide, build_worker_side
from selfjourney.worker.watchdog import Watchdog

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from selfjourney.feed.redis import RedisFeed


def _broker(settings: Settings) -> CeleryQueue:
    if not settings.broker_url:
        raise Misconfigured(
            "SELFJOURNEY_QUEUE=celery needs SELFJOURNEY_BROKER_URL (redis://... or amqp://...)"
        )
    app = celery_app(settings.broker_url, visibility_timeout=settings.broker_visibility_timeout)
    return CeleryQueue(app)


@dataclass(frozen=True)
class ApiProcess:
    """An API process: the service over the shared store, storage and broker."""

    settings: Settings
    store: Store
    storage: Storage
    queue: CeleryQueue
    service: Service
    #: Hears the workers' job changes (Redis when configured): event streams wake at once.
    feed: LocalFeed | RedisFeed

    def start(self) -> None:
        """Declare every model's queue (the workers are elsewhere, maybe not started yet)."""
        try:
            self.queue.declare(self.settings.model_table().names)
        except Exception as exc:  # the broker is down: /readyz says so; sends declare again
            log.warning("could not declare the models' queues: %s", exc)

    def stop(self) -> None:
        self.feed.close()
        self.store.close()

    def app(self) -> FastAPI:
        return create_app(
            service=self.service,
            dialects=DIALECTS,
            images_dir=local_images(self.settings),
            lifecycle=self,
            events_keepalive=self.settings.events_keepalive,
            probes={
                "database": self.store.ping,
                "storage": self.storage.check,
                "broker": self.queue.check,
            },
            metrics=FleetCollector(self.store),
        )


def build_api_process(settings: Settings) -> ApiProcess:
    """The API side alone: no engine, no worker; jobs go to the broker."""
    store = Store.connect(settings.db_url, upgrade=False)
    storage = build_storage(settings)
    queue = _broker(settings)
    feed = build_feed(settings)
    service = build_service(
        settings,
        store=store,
        storage=storage,
        queue=queue,
        max_concurrent_jobs=max(1, settings.workers),
        run_inline=None,  # an upsample is a copy, but the copy is the workers' to make
        feed=feed,
    )
    return ApiProcess(
        settings=settings, store=store, storage=storage, queue=queue, service=service, feed=feed
    )


@dataclass(frozen=True)
class WorkerProcess:
    """A render worker: the worker side, a Celery consumer, and the watchdog."""

    settings: Settings
    store: Store
    workers: WorkerSide
    queue: CeleryQueue
    watchdog: Watchdog
    models: tuple[str, ...]
    concurrency: int
    #: Tells the API processes of each job change (Redis when configured).
    feed: LocalFeed | RedisFeed

    def run(self, metrics_port: int | None = None) -> None:
        """Load the engine in this process, then consume until stopped (SIGTERM: warm stop);
        with ``metrics_port``, this process's metrics (render seconds...) are served there."""
        self.workers.load()
        exporter = serve_metrics(metrics_port) if metrics_port is not None else None
        self.workers.start()
        self.watchdog.start()
        try:
            consume(self.queue.app, models=self.models, concurrency=self.concurrency)
        finally:
            if exporter is not None:
                exporter.shutdown()
            self.watchdog.stop()
            self.workers.stop()
            self.feed.close()
            self.store.close()


def build_worker_process(
    settings: Settings, *, models: Sequence[str] = (), concurrency: int = 1
) -> WorkerProcess:
    """A worker serving ``models`` (all configured ones when empty) with ``concurrency``
    render slots; the engine is made here and loaded by ``run``."""
    store = Store.connect(settings.db_url, upgrade=False)
    storage = build_storage(settings)
    queue = _broker(settings)
    feed = build_feed(settings)
    workers = build_worker_side(
        settings,
        store=store,
        storage=storage,
        styles=webhook_styles(settings),
        feed=feed,
        models=list(models) or None,  # an unknown name is Misconfigured here
    )
    register_runner(queue.app, workers.worker.run, queue)
    watchdog = Watchdog(
        store=store,
        enqueue=queue.enqueue,
        fail=workers.worker.fail,
        max_attempts=settings.max_attempts,
        interval=settings.watchdog_interval,
        resend_after=settings.resend_queued_after,
    )
    return WorkerProcess(
        settings=settings,
        store=store,
        workers=workers,
        queue=queue,
        watchdog=watchdog,
        models=tuple(models) or settings.model_table().names,  # each has its own queue
        concurrency=concurrency,
        feed=feed,
    )
