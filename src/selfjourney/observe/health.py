"""Readiness: each dependency's probe run off the event loop with a short timeout.

Usage::

    probes = Probes({"database": store.ping, "storage": storage.check}, timeout=2.0)
    ready, checks = await probes.run()   # checks: {"database": "ok", "storage": "error: ..."}
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Mapping

#: A probe returns when its dependency answers and raises when it does not.
Probe = Callable[[], None]

#: Longest answer a failed check carries (an exception's text can be long).
MESSAGE_LIMIT = 200


class Probes:
    """Runs named probes at once, each on a daemon thread of its own, so a hung database
    blocks neither the event loop, nor the threads serving requests, nor the process's exit.

    A probe still hanging from an earlier call is reported down without starting another, so
    a dead dependency costs at most one thread per probe.
    """

    def __init__(self, probes: Mapping[str, Probe], *, timeout: float = 2.0) -> None:
        self.probes = dict(probes)
        self.timeout = timeout
        self._running: set[str] = set()
        self._lock = threading.Lock()

    async def run(self) -> tuple[bool, dict[str, str]]:
        """Whether every probe answered, and each one's ``ok`` or ``error: ...``."""
        names = list(self.probes)
        results = await asyncio.gather(*(self._check(name) for name in names))
        return all(r == "ok" for r in results), dict(zip(names, results, strict=True))

    async def _check(self, name: str) -> str:
        with self._lock:
            if name in self._running:
                return "error: the previous check has not answered yet"
            self._running.add(name)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()

        def probe() -> None:
            try:
                self.probes[name]()
                outcome = "ok"
            except Exception as exc:  # a probe says "down" by raising anything
                outcome = _error(exc)
            finally:
                with self._lock:
                    self._running.discard(name)
            with contextlib.suppress(RuntimeError):  # the loop closed while the probe hung
                loop.call_soon_threadsafe(_settle, answer, outcome)

        threading.Thread(target=probe, name=f"selfjourney-probe-{name}", daemon=True).start()
        try:
            return await asyncio.wait_for(asyncio.shield(answer), self.timeout)
        except TimeoutError:
            return f"error: no answer within {self.timeout:g} s"


def _settle(answer: asyncio.Future[str], outcome: str) -> None:
    if not answer.done():
        answer.set_result(outcome)


def _error(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"error: {text[:MESSAGE_LIMIT]}"
