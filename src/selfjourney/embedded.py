"""``selfjourney serve`` on the embedded defaults: the API and the workers in one process.

SQLite (or any database by URL), files on local disk served at ``/cdn/images``, an in-process
queue whose threads run the worker. Each side is built by its own function; this module only
joins them.

Usage::

    embedded = build_embedded(Settings())
    app = embedded.app()   # its lifespan starts and stops the workers
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from fastapi import FastAPI

from selfjourney.api import build_service, create_app
from selfjourney.config import Settings
from selfjourney.dialects.registry import DIALECTS, webhook_styles
from selfjourney.engines.base import Engine
from selfjourney.engines.upscale import Upscaler
from selfjourney.feed.local import LocalFeed
from selfjourney.feed.select import build_feed
from selfjourney.observe.metrics import FleetCollector
from selfjourney.queue.local import LocalQueue
from selfjourney.service import Service
from selfjourney.storage.base import Storage
from selfjourney.storage.select import build_storage, local_images
from selfjourney.store import Store
from selfjourney.store.database import Clock, utcnow
from selfjourney.worker.side import WorkerSide, build_worker_side
from selfjourney.worker.watchdog import Watchdog

if TYPE_CHECKING:
    from selfjourney.feed.redis import RedisFeed


@dataclass(frozen=True)
class Embedded:
    """One process holding both sides; tests build one with fakes swapped in."""

    settings: Settings
    store: Store
    storage: Storage
    queue: LocalQueue
    service: Service
    workers: WorkerSide
    watchdog: Watchdog
    #: Joins the two sides: the worker publishes job changes, waiters (event streams) watch;
    #: through Redis when the settings name one, so other processes' streams hear them too.
    feed: LocalFeed | RedisFeed

    def start(self) -> None:
        """Re-queue what a previous process left unfinished, then start working."""
        self.store.jobs.recover()
        for waiting in self.store.jobs.waiting():
            self.queue.enqueue(waiting.id, waiting.priority, waiting.model)
        self.queue.start()
        self.workers.start()
        self.watchdog.start()

    def stop(self) -> None:
        self.watchdog.stop()
        self.queue.stop()
        self.workers.stop()
        self.feed.close()
        self.store.close()

    def app(self) -> FastAPI:
        """The API over this process's service; its lifespan starts and stops the rest."""
        return create_app(
            service=self.service,
            dialects=DIALECTS,
            images_dir=local_images(self.settings),
            lifecycle=self,
            events_keepalive=self.settings.events_keepalive,
            probes={"database": self.store.ping, "storage": self.storage.check},
            metrics=FleetCollector(self.store),
        )


def build_embedded(
    settings: Settings,
    *,
    engine: Engine | None = None,
    engines: Mapping[str, Engine] | None = None,
    upscaler: Upscaler | None = None,
    storage: Storage | None = None,
    clock: Clock = utcnow,
    fetch_client: httpx.Client | None = None,
) -> Embedded:
    """Both sides over one store and one storage, joined by an in-process queue that renders
    every configured model; ``engine`` (all models') and ``engines`` (by name) are for tests."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.connect(settings.db_url, clock)
    storage = storage or build_storage(settings)
    feed = build_feed(settings)
    workers = build_worker_side(
        settings,
        store=store,
        storage=storage,
        styles=webhook_styles(settings),
        engine=engine,
        engines=engines,
        upscaler=upscaler,
        fetch_client=fetch_client,
        feed=feed,
    )
    queue = LocalQueue(workers.worker.run, workers=settings.workers)
    service = build_service(
        settings,
        store=store,
        storage=storage,
        queue=queue,
        max_concurrent_jobs=max(1, settings.workers),  # jobs that can render at once
        run_inline=workers.worker.run_claimed,
        feed=feed,
    )
    watchdog = Watchdog(
        store=store,
        enqueue=queue.enqueue,
        fail=workers.worker.fail,
        max_attempts=settings.max_attempts,
        interval=settings.watchdog_interval,
        resend_after=settings.resend_queued_after,
    )
    return Embedded(
        watchdog=watchdog,
        settings=settings,
        store=store,
        storage=storage,
        queue=queue,
        service=service,
        workers=workers,
        feed=feed,
    )
