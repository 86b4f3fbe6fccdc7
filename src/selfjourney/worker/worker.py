"""One job, start to finish: claim, render, then COMPLETED (images stored) or FAILED (refunded).

Safe to run twice for the same id: the claim lets one worker in, and output keys are
deterministic, so a re-run overwrites and never duplicates. While it renders, the worker holds
a lease on the job and renews it; if it dies, the lease runs out and the watchdog queues the
job again. Every write names the run's attempt, so a worker that lost its job (cancelled, or
claimed again after its lease ran out) stops at its next progress report and stores nothing.
A worker never knows which dialect a job came from; ``Events`` renders the webhook bodies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import replace

from selfjourney.domain.jobs import Job, Result
from selfjourney.domain.status import JobStatus
from selfjourney.engines.base import Retry
from selfjourney.feed.base import Feed
from selfjourney.observe.logs import job_context
from selfjourney.observe.metrics import rendering
from selfjourney.outbound.fetch import FetchError
from selfjourney.store import Store
from selfjourney.store.runs import AtCap
from selfjourney.webhooks.events import Events
from selfjourney.worker.render import Progress, Renderer, SourceImageError

log = logging.getLogger(__name__)

#: Runs a job may have (its worker died, or its engine asked for a retry) before it fails.
MAX_ATTEMPTS = 3
#: Seconds a claim holds a job before it must be renewed (renewed every third of it).
LEASE_SECONDS = 30.0
#: Least seconds between two progress writes of one job (each also checks it is still ours).
PROGRESS_WRITE_INTERVAL = 0.05
#: Seconds before a job held back by its key's cap tries again: short, so it starts soon after
#: a job of its key ends (each try is one small transaction).
CAP_RETRY_SECONDS = 1.0


class RunLost(Exception):
    """The job is no longer this run's: cancelled, or claimed again after the lease ran out."""


class Worker:
    """Runs jobs by id; never raises for a job's own failure.

    Usage::

        worker = Worker(store=store, renderer=renderer, events=events)
        again_in = worker.run(job_id)   # None, or seconds before the job should run again
    """

    def __init__(
        self,
        *,
        store: Store,
        renderer: Renderer,
        events: Events,
        feed: Feed | None = None,
        lease: float = LEASE_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
        per_key_cap: int = 0,
        cap_retry: float = CAP_RETRY_SECONDS,
        models: Collection[str | None] | None = None,
    ) -> None:
        self.store = store
        self.renderer = renderer
        self.events = events
        #: Told of every change to a job's row, so waiting callers wake at once.
        self.feed = feed
        self.lease = lease
        self.max_attempts = max_attempts
        #: Jobs of one key that may render at once (0: no cap); more wait QUEUED.
        self.per_key_cap = per_key_cap
        self.cap_retry = cap_retry
        #: The models whose jobs this worker claims (None in it: jobs naming none); None: all.
        self.models = models

    def run(self, job_id: str) -> float | None:
        """Claim and run a queued job. Returns the seconds after which the queue should run
        it again (the engine asked for a retry, or its key renders its cap of jobs), or None.
        A job of a model this worker does not serve stays QUEUED for a worker that does."""
        try:
            claimed = self.store.jobs.claim(job_id, self.lease, self.per_key_cap, self.models)
        except AtCap:
            return self.cap_retry  # still QUEUED, no attempt counted
        if claimed is None:
            return None  # not queued (finished, cancelled, another worker has it), or not ours
        return self.run_claimed(*claimed)

    def run_claimed(self, job: Job, mask: bytes | None = None) -> float | None:
        """Render a job this caller already holds in PROCESSING (a claim or an inline insert)."""
        with job_context(job.id), _Lease(self.store, job, self.lease) as lease:
            try:
                with rendering(job.kind, job.render_model or "default"):
                    result = self.renderer.produce(job, mask, self._progress(job, lease))
            except RunLost:
                log.info("job %s is no longer this worker's (cancelled or taken over)", job.id)
                self._changed(job)
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
            log.info("job %s (%s) completed", job.id, job.kind.value)
            self._changed(job)
            if deliveries:
                self.events.notify()

    def _retry(self, job: Job, retry: Retry) -> float | None:
        if job.attempt >= self.max_attempts:
            self.fail(job, f"Image generation failed after {job.attempt} attempts: {retry}")
            return None
        return retry.defer if self.store.jobs.requeue(job) else None

    def _changed(self, job: Job) -> None:
        if self.feed is not None:
            self.feed.publish(job.id)

    def _progress(self, job: Job, lease: _Lease) -> Progress:
        return Progress(_ProgressReport(self.store, self.events, job, lease, self._changed))


class _Lease:
    """Holds a claimed job while it renders: renews its lease every third of it on a thread
    of its own (a long engine call reports no progress), and says when the job was lost."""

    def __init__(self, store: Store, job: Job, seconds: float) -> None:
        self._store = store
        self._job = job
        self._seconds = seconds
        self._done = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(
            target=self._renew_until_done, name=f"selfjourney-lease-{job.id[:8]}", daemon=True
        )

    def __enter__(self) -> _Lease:
        self._renew()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _renew_until_done(self) -> None:
        while not self._done.wait(self._seconds / 3) and not self.lost.is_set():
            self._renew()

    def _renew(self) -> None:
        try:
            if not self._store.jobs.renew(self._job, self._seconds):
                self.lost.set()
        except Exception:  # a database hiccup: the next renewal tries again
            log.warning("could not renew the lease of job %s", self._job.id, exc_info=True)


class _ProgressReport:
    """Writes a job's percentage at most every 0.05 s, each write also asking whether the job
    is still this run's (so a cancel stops the render at the engine's next step); announces
    it only when it rose."""

    def __init__(
        self,
        store: Store,
        events: Events,
        job: Job,
        lease: _Lease,
        changed: Callable[[Job], None],
    ) -> None:
        self._store = store
        self._events = events
        self._job = job
        self._lease = lease
        self._changed = changed
        self._percent = 0
        self._at = 0.0
        self._lock = threading.Lock()

    def __call__(self, fraction: float) -> None:
        if self._lease.lost.is_set():
            raise RunLost(self._job.id)
        percent, now = min(99, int(fraction * 100)), time.monotonic()
        with self._lock:
            if now - self._at < PROGRESS_WRITE_INTERVAL:
                return
            rose, self._at = percent > self._percent, now
            self._percent = max(percent, self._percent)
        if not self._store.jobs.set_progress(self._job, self._percent):
            self._lease.lost.set()
            raise RunLost(self._job.id)
        if rose:
            self._changed(self._job)
            self._events.progress(replace(self._job, progress=self._percent))


def failure_message(exc: Exception) -> str:
    """The job's ``error``: what went wrong, in words a caller can act on."""
    if isinstance(exc, MemoryError):
        return "Image generation failed: out of memory"
    if isinstance(exc, SourceImageError):
        return str(exc)
    if isinstance(exc, FetchError):
        return f"Reference image unusable: {exc}"
    return f"Image generation failed: {exc}" if str(exc) else "Image generation failed"
