"""Sends due deliveries on a small thread pool, so one slow receiver delays nobody else."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx

from selfjourney.store.deliveries import Deliveries, Delivery
from selfjourney.webhooks.policy import RetryPolicy
from selfjourney.webhooks.sender import post

log = logging.getLogger(__name__)


class Dispatcher:
    """Polls the delivery table (woken early by ``notify``) and POSTs what is due.

    Usage::

        dispatcher = Dispatcher(
            deliveries=store.deliveries, client=client, policy=policy, concurrency=8, timeout=10
        )
        dispatcher.start()
    """

    def __init__(
        self,
        *,
        deliveries: Deliveries,
        client: httpx.Client,
        policy: RetryPolicy,
        concurrency: int,
        timeout: float,
    ) -> None:
        self.deliveries = deliveries
        self.client = client
        self.policy = policy
        self.concurrency = concurrency
        self.timeout = timeout
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()
        self._wake = threading.Event()
        self._recorded = threading.Condition()
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="selfjourney-webhook")
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no delivery is pending (each settled or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._recorded:
            while self.deliveries.pending():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._recorded.wait(min(left, 0.05))
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="selfjourney-dispatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._dispatch_due()
            except Exception:  # a database hiccup must not kill deliveries for good
                log.exception("webhook dispatcher pass failed")
            self._wake.wait(timeout=self._seconds_to_next())
            self._wake.clear()

    def _dispatch_due(self) -> None:
        while not self._stop.is_set():
            free = self._free_slots()
            if not free:
                return
            with self._in_flight_lock:
                busy = frozenset(self._in_flight)
            due = self.deliveries.lease_due(free, self.hold, exclude=busy)
            for delivery in due:
                self._slots.acquire()
                with self._in_flight_lock:
                    self._in_flight.add(delivery.id)
                self._pool.submit(self._send_and_release, delivery)
            if len(due) < free:
                return

    def _free_slots(self) -> int:
        taken = 0
        while self._slots.acquire(blocking=False):
            taken += 1
        for _ in range(taken):
            self._slots.release()
        return taken

    def _seconds_to_next(self) -> float:
        due = self.deliveries.next_due_at()
        if due is None:
            return 5.0
        wait = (due - self.deliveries.db.now()).total_seconds()
        return min(5.0, max(0.01, wait))

    def _send_and_release(self, delivery: Delivery) -> None:
        try:
            self.send(delivery)
        except Exception:
            log.exception("webhook delivery %s crashed", delivery.id)
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(delivery.id)
            self._slots.release()
            self._wake.set()
            with self._recorded:
                self._recorded.notify_all()

    def _policy(self, delivery: Delivery) -> RetryPolicy:
        if not delivery.backoff:
            return self.policy
        return RetryPolicy(delivery.max_attempts, delivery.backoff)

    def hold(self, delivery: Delivery) -> timedelta:
        """How long a leased delivery stays hidden: long enough for its attempt to end, then
        the wait before the next one. A sender that dies mid-attempt so loses no attempt
        number and shifts no retry earlier; the delivery is simply due again on schedule."""
        attempt_takes = (delivery.timeout or self.timeout) + 1
        following = None
        if delivery.attempts < delivery.max_attempts:
            following = self._policy(delivery).delay_before(delivery.attempts + 1)
        return timedelta(seconds=attempt_takes + (following or 0.0))

    def send(self, delivery: Delivery) -> None:
        """One attempt (``lease_due`` counted it already), then record it and schedule the next
        (if any)."""
        attempt = delivery.attempts
        headers = {**delivery.headers, "X-Webhook-Attempt": str(attempt)}
        outcome = post(self.client, delivery.url, delivery.body, headers, delivery.timeout)
        retry_at = None
        if not outcome.delivered and outcome.retryable and attempt < delivery.max_attempts:
            delay = self._policy(delivery).delay_before(attempt + 1)
            if delay is not None:
                retry_at = self.deliveries.db.now() + timedelta(seconds=delay)
        if not outcome.delivered:
            log.info(
                "webhook %s attempt %d to job %s failed: %s",
                delivery.event,
                attempt,
                delivery.job_id,
                outcome.error,
            )
        self.deliveries.record(
            delivery, outcome.delivered, outcome.status_code, outcome.error, retry_at
        )
