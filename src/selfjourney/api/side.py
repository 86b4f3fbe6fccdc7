"""The service an API process runs: over the store, the storage and a queue's way in."""

from __future__ import annotations

from selfjourney.config import Settings
from selfjourney.feed.base import Feed
from selfjourney.queue.base import Queue
from selfjourney.service import Service
from selfjourney.service.ratelimit import RateLimit
from selfjourney.service.service import RunInline
from selfjourney.storage.base import Storage
from selfjourney.store import Store


def build_service(
    settings: Settings,
    *,
    store: Store,
    storage: Storage,
    queue: Queue,
    max_concurrent_jobs: int,
    run_inline: RunInline | None = None,
    feed: Feed | None = None,
) -> Service:
    """The service; ``run_inline`` runs upsamples (a copy) in the request's thread, ``feed``
    wakes callers waiting on a job."""
    return Service(
        store=store,
        storage=storage,
        queue=queue,
        costs=settings.costs,
        allow_private_urls=settings.allow_private_urls,
        # A key never renders more jobs at once than its cap, however many workers there are.
        max_concurrent_jobs=min(max_concurrent_jobs, settings.max_concurrent_jobs_per_key)
        if settings.max_concurrent_jobs_per_key
        else max_concurrent_jobs,
        run_inline=run_inline if settings.inline_upsample else None,
        # Remembering keys saves a thread hop per request when the database is remote; with
        # local SQLite reads the look-up is cheaper than the hop and revocation stays instant.
        auth_cache_seconds=0.0 if store.db.reads_are_local else 1.0,
        feed=feed,
        max_wait=settings.openai_timeout,
        rate_limit=_rate_limit(settings),
        models=settings.model_table(),
    )


def _rate_limit(settings: Settings) -> RateLimit | None:
    """Counted in Redis when the fleet shares one, else in this process alone."""
    if settings.rate_limit_per_minute == 0:
        return None
    return RateLimit(settings.rate_limit_per_minute, redis_url=settings.shared_redis_url)
