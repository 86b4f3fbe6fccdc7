"""In-process queue: a priority heap and N worker threads inside ``selfjourney serve``."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable

from selfjourney.queue.base import RunJob

log = logging.getLogger(__name__)


class LocalQueue:
    """Runs jobs on ``workers`` threads. With ``workers=0`` nothing runs until ``drain()``.

    Usage::

        queue = LocalQueue(worker.run, workers=2)
        queue.start()
        queue.enqueue(job_id)
    """

    def __init__(self, run_job: RunJob, *, workers: int = 2) -> None:
        self._run_job = run_job
        self._workers = workers
        self._heap: list[tuple[int, int, str]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._timers: set[threading.Timer] = set()

    def enqueue(self, job_id: str, priority: int = 0, model: str | None = None) -> None:
        """``model`` is ignored: the in-process worker renders every model."""
        with self._cond:
            heapq.heappush(self._heap, (-priority, next(self._counter), job_id))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def start(self) -> None:
        self._stopping = False
        for n in range(self._workers):
            thread = threading.Thread(
                target=self._work, name=f"selfjourney-worker-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop taking jobs and wait for running ones (a job left queued stays in the store)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            timers, self._timers = list(self._timers), set()
        for timer in timers:
            timer.cancel()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def drain(self) -> int:
        """Run every queued job in the calling thread; return how many ran (tests, burst).

        A job that asks to run again goes back in the queue at once, so it runs in this drain.
        """
        ran = 0
        while (popped := self._pop(block=False)) is not None:
            self._safe_run(
                *popped, later=lambda job_id, priority, _delay: self.enqueue(job_id, priority)
            )
            ran += 1
        return ran

    def _pop(self, block: bool) -> tuple[str, int] | None:
        with self._cond:
            while block and not self._heap and not self._stopping:
                self._cond.wait()
            if not self._heap or self._stopping:
                return None
            negated, _, job_id = heapq.heappop(self._heap)
            return job_id, -negated

    def _work(self) -> None:
        while (popped := self._pop(block=True)) is not None:
            self._safe_run(*popped, later=self._enqueue_later)

    def _safe_run(
        self, job_id: str, priority: int, later: Callable[[str, int, float], None]
    ) -> None:
        try:
            again_in = self._run_job(job_id)
        except Exception:  # the worker handles job failures; this is a last resort
            log.exception("worker crashed on job %s", job_id)
            return
        if again_in is not None:
            later(job_id, priority, again_in)

    def _enqueue_later(self, job_id: str, priority: int, delay: float) -> None:
        if delay <= 0:
            self.enqueue(job_id, priority)
            return

        def fire() -> None:
            with self._cond:
                self._timers.discard(timer)
            self.enqueue(job_id, priority)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._cond:
            if self._stopping:
                return
            self._timers.add(timer)
        timer.start()
