"""One job, start to finish: claim, render, then COMPLETED (images stored) or FAILED (refunded).

Safe to run twice for the same id: the claim lets one worker in, and output keys are
deterministic, so a re-run overwrites and never duplicates. A worker never knows which dialect
a job came from; ``Events`` renders the webhook bodies in the job's dialect.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from selfjourney.domain.jobs import Job, Result
from selfjourney.domain.status import JobStatus
from selfjourney.engines.base import Retry
from selfjourney.feed.base import Feed
from selfjourney.outbound.fetch import FetchError
from selfjourney.store import Store
from selfjourney.webhooks.events import Events
from selfjourney.worker.render import Progress, Renderer, SourceImageError

log = logging.getLogger(__name__)

#: Times an engine may ask for a job to run again before it fails.
MAX_RETRIES = 3
#: Least seconds between two progress writes of one job.
PROGRESS_WRITE_INTERVAL = 0.1


class Worker:
    """Runs jobs by id; never raises for a job's own failure.

    Usage::

        worker = Worker(store=store, renderer=renderer, events=events)
        again_in = worker.run(job_id)   # None, or seconds before the job should run again
    """

    def __init__(
        self, *, store: Store, renderer: Renderer, events: Events, feed: Feed | None = None
    ) -> None:
        self.store = store
        self.renderer = renderer
        self.events = events
        #: Told of every change to a job's row, so waiting callers wake at once.
        self.feed = feed

    def run(self, job_id: str) -> float | None:
        """Claim and run a queued job. Returns the seconds after which the queue should run
        it again (the engine asked for a retry), or None."""
        claimed = self.store.jobs.claim(job_id)
        if claimed is None:
            return None  # finished already, or another worker has it
        return self.run_claimed(*claimed)

    def run_claimed(self, job: Job, mask: bytes | None = None) -> float | None:
        """Render a job this caller already holds in PROCESSING (a claim or an inline insert)."""
        try:
            result = self.renderer.produce(job, mask, self._progress(job))
        except Retry as retry:
            return self._retry(job, retry)
        except Exception as exc:  # any engine or storage error fails the job, with a refund
            log.warning("job %s failed: %s", job.id, exc, exc_info=True)
            self.fail(job, failure_message(exc))
        else:
            self._complete(job, result)
        return None

    def fail(self, job: Job, message: str) -> None:
        """End a running job as FAILED with a refund, once (also the watchdog's way out)."""
        failed = job.moved(
            JobStatus.FAILED,
            error=message,
            progress=0,
            refunded=job.cost > 0,
            completed_at=self.store.now(),
        )
        failed = replace(failed, webhook_status="pending" if self.events.wants(failed) else None)
        deliveries = self.events.terminal(failed)
        if self.store.jobs.fail(failed, deliveries):
            self._changed(job)
            if deliveries:
                self.events.notify()

    def _complete(self, job: Job, result: Result) -> None:
        done = job.moved(
            JobStatus.COMPLETED, result=result, progress=100, completed_at=self.store.now()
        )
        done = replace(done, webhook_status="pending" if self.events.wants(done) else None)
        deliveries = self.events.terminal(done)
        if self.store.jobs.complete(done, deliveries):
            self._changed(job)
            if deliveries:
                self.events.notify()

    def _retry(self, job: Job, retry: Retry) -> float | None:
        if job.attempt >= MAX_RETRIES:
            self.fail(job, f"Image generation failed after {job.attempt} attempts: {retry}")
            return None
        self.store.jobs.requeue(job.id)
        return retry.defer

    def _changed(self, job: Job) -> None:
        if self.feed is not None:
            self.feed.publish(job.id)

    def _progress(self, job: Job) -> Progress:
        return Progress(_ProgressReport(self.store, self.events, job, self._changed))


class _ProgressReport:
    """Writes a job's percentage and announces it, at most every 0.1 s and only upwards."""

    def __init__(
        self, store: Store, events: Events, job: Job, changed: Callable[[Job], None]
    ) -> None:
        self._store = store
        self._events = events
        self._job = job
        self._changed = changed
        self._percent = 0
        self._at = 0.0
        self._lock = threading.Lock()

    def __call__(self, fraction: float) -> None:
        percent, now = min(99, int(fraction * 100)), time.monotonic()
        with self._lock:
            if percent <= self._percent or now - self._at < PROGRESS_WRITE_INTERVAL:
                return
            self._percent, self._at = percent, now
        self._store.jobs.set_progress(self._job.id, percent)
        self._changed(self._job)
        self._events.progress(replace(self._job, progress=percent))


def failure_message(exc: Exception) -> str:
    """The job's ``error``: what went wrong, in words a caller can act on."""
    if isinstance(exc, MemoryError):
        return "Image generation failed: out of memory"
    if isinstance(exc, SourceImageError):
        return str(exc)
    if isinstance(exc, FetchError):
        return f"Reference image unusable: {exc}"
    return f"Image generation failed: {exc}" if str(exc) else "Image generation failed"
