"""Periodic upkeep: fail renders that hang, purge images (and unconfirmed held actions) past
retention, forget old keys.

"No job stays stuck": a render that outlives ``job_timeout`` is failed with a refund; if
its thread ever finishes, the store refuses to complete a job that already ended. Any process
may run it: its loop runs a round only when it wins it in the store (``store.rounds``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from selfjourney.domain.jobs import Job
from selfjourney.domain.renditions import renditions_folder
from selfjourney.storage.base import Storage
from selfjourney.store import Store
from selfjourney.worker.watchdog import process_name

log = logging.getLogger(__name__)


class Janitor:
    """Runs ``sweep()`` every ``interval`` seconds on a daemon thread.

    Usage::

        janitor = Janitor(
            store=store, storage=storage, fail=worker.fail, job_timeout=1800, retention_days=90
        )
        janitor.start()
    """

    def __init__(
        self,
        *,
        store: Store,
        storage: Storage,
        fail: Callable[[Job, str], None],
        job_timeout: float,
        retention_days: float,
        interval: float = 60.0,
    ) -> None:
        self.store = store
        self.storage = storage
        self.fail = fail
        self.job_timeout = timedelta(seconds=job_timeout)
        self.retention = timedelta(days=retention_days) if retention_days > 0 else None
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="selfjourney-janitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.store.rounds.take("janitor", process_name(), self.interval * 0.8):
                    self.sweep()
            except Exception:  # upkeep must never take the server down
                log.exception("janitor sweep failed")

    def sweep(self) -> None:
        """One pass of every chore; safe to call at any time."""
        now = self.store.now()
        for job in self.store.jobs.stuck(now - self.job_timeout):
            log.warning("job %s has rendered for too long; failing it", job.id)
            self.fail(job, "Image generation failed: timed out")
        if self.retention is not None:
            self.purge(now - self.retention)
            self.store.holds.purge(now - self.retention)  # presses never confirmed
        self.store.jobs.prune_idempotency()

    def purge(self, completed_before: datetime) -> int:
        """Delete the images of jobs finished before the cutoff; they read as ``expired``."""
        purged = 0
        for job in self.store.jobs.expiring(completed_before):
            keys = job.params.uploads()  # the images the caller sent with it
            if job.result is not None:
                keys += [*job.result.images, *([job.result.grid] if job.result.grid else [])]
            for key in keys:
                self.storage.delete(key)
            self.storage.delete_folder(renditions_folder(job.id))  # copies made for callers
            self.store.jobs.mark_expired(job.id)
            purged += 1
        return purged
