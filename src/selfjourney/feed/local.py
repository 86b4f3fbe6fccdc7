"""Signals within one process: worker threads publish, asyncio tasks of the API wait."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType


class LocalFeed:
    """In-memory feed; a publish wakes every watch of the job, in whichever event loop it is.

    Usage::

        with feed.watch(job_id) as watch:
            job = read()
            while not job.status.is_terminal():
                await watch.wait(1.0)
                job = read()
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: dict[str, set[LocalWatch]] = {}

    def publish(self, job_id: str) -> None:
        with self._lock:
            watches = list(self._watches.get(job_id, ()))
        for watch in watches:
            watch.notify()

    def publish_all(self) -> None:
        """Wake every watch: signals may have been lost (a broker reconnected)."""
        with self._lock:
            watches = [watch for group in self._watches.values() for watch in group]
        for watch in watches:
            watch.notify()

    def watch(self, job_id: str) -> LocalWatch:
        return LocalWatch(self, job_id, asyncio.get_running_loop())

    def watching(self) -> int:
        """How many watches are open (tests: none is left behind)."""
        with self._lock:
            return sum(len(watches) for watches in self._watches.values())

    def close(self) -> None:
        """Nothing to release: here for a process that closes whichever feed it built."""

    def _add(self, watch: LocalWatch) -> None:
        with self._lock:
            self._watches.setdefault(watch.job_id, set()).add(watch)

    def _remove(self, watch: LocalWatch) -> None:
        with self._lock:
            watches = self._watches.get(watch.job_id)
            if watches is not None:
                watches.discard(watch)
                if not watches:
                    del self._watches[watch.job_id]


class LocalWatch:
    """One waiter's interest in one job; set from any thread, awaited in its own loop."""

    def __init__(self, feed: LocalFeed, job_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.job_id = job_id
        self._feed = feed
        self._loop = loop
        self._event = asyncio.Event()

    def notify(self) -> None:
        if _running_loop() is self._loop:  # published from the waiter's own loop
            self._event.set()
            return
        # A closed loop raises RuntimeError: nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        if self._event.is_set():
            self._event.clear()
            return True
        try:
            await asyncio.wait_for(self._event.wait(), max(0.0, timeout))
        except TimeoutError:
            return False
        self._event.clear()
        return True

    def __enter__(self) -> LocalWatch:
        self._feed._add(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._feed._remove(self)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
