"""In-process queue: a priority heap and N worker threads inside ``selfjourney serve``."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading

from selfjourney.queue.base import RunJob

log = logging.getLogger(__name__)


class LocalQueue:
    """Runs jobs on ``workers`` threads. With ``workers=0`` nothing runs until ``drain()``.

    Usage::

        queue = LocalQueue(run_job, workers=2)
        queue.start()
        queue.enqueue(job_id)
    """

    def __init__(self, run_job: RunJob, workers: int = 2) -> None:
        self._run_job = run_job
        self._workers = workers
        self._heap: list[tuple[int, int, str]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopping = False

    def enqueue(self, job_id: str, priority: int = 0) -> None:
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
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def drain(self) -> int:
        ran = 0
        while (job_id := self._pop(block=False)) is not None:
            self._safe_run(job_id)
            ran += 1
        return ran

    def _pop(self, block: bool) -> str | None:
        with self._cond:
            while block and not self._heap and not self._stopping:
                self._cond.wait()
            if not self._heap or self._stopping:
                return None
            return heapq.heappop(self._heap)[2]

    def _work(self) -> None:
        while (job_id := self._pop(block=True)) is not None:
            self._safe_run(job_id)

    def _safe_run(self, job_id: str) -> None:
        try:
            self._run_job(job_id)
        except Exception:  # the runner handles job failures; this is a last resort
            log.exception("worker crashed on job %s", job_id)
