"""The watchdog: jobs whose worker stopped renewing its lease (it died) go back to the queue,
or fail with a refund once they have had ``max_attempts`` runs; jobs that waited QUEUED for
``resend_after`` seconds are sent to the queue again (a queue may have lost them).

Any process may run it: each round is taken in the store first (``store.rounds``), so of
several processes sweeping at once one does the work, and the release of each job is a
conditional write that a late renewal or a finished run wins over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

from selfjourney.domain.jobs import Job
from selfjourney.store import Store

log = logging.getLogger(__name__)

#: Puts a job id back in the queue, with its priority and model (``Queue.enqueue``).
Enqueue = Callable[[str, int, str | None], None]


def process_name() -> str:
    """Who runs a round, for the ``rounds`` table: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Watchdog:
    """Runs ``sweep()`` every ``interval`` seconds on a daemon thread.

    Usage::

        watchdog = Watchdog(store=store, enqueue=queue.enqueue, fail=worker.fail,
                            max_attempts=3, interval=10)
        watchdog.start()
    """

    def __init__(
        self,
        *,
        store: Store,
        enqueue: Enqueue,
        fail: Callable[[Job, str], None],
        max_attempts: int,
        interval: float,
        resend_after: float = 300.0,
    ) -> None:
        self.store = store
        self.enqueue = enqueue
        self.fail = fail
        self.max_attempts = max_attempts
        self.interval = interval
        self.resend_after = resend_after
        self._owner = process_name()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="selfjourney-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.store.rounds.take("watchdog", self._owner, self.interval * 0.8):
                    self.sweep()
            except Exception:  # the watchdog must never take the process down
                log.exception("watchdog sweep failed")

    def sweep(self) -> int:
        """One pass (the loop runs it only in rounds this process wins): how many jobs went
        back to the queue."""
        released = 0
        for job in self.store.jobs.lapsed():
            if job.attempt >= self.max_attempts:
                log.warning("job %s lost its worker %d times; failing it", job.id, job.attempt)
                self.fail(job, f"Image generation failed: its worker stopped, {job.attempt} times")
            elif self.store.jobs.release(job):
                log.warning("job %s lost its worker; queued again", job.id)
                self.enqueue(job.id, job.params.priority, job.render_model)
                released += 1
        for job in self.store.jobs.stranded(self.resend_after):
            log.warning("job %s waited %.0f s in the queue; sent again", job.id, self.resend_after)
            self.enqueue(job.id, job.params.priority, job.render_model)
        return released
