"""Defect 5: a webhook attempt lost with its process is re-sent as attempt 1, minutes later.

``Deliveries.lease_due`` hides a due delivery for the dispatcher's lease (``max(timeout,
120) * 2 + 30`` = 270 s) and counts nothing; only ``Deliveries.record``, after the POST
returns, adds the attempt and schedules the retry. A process killed while a POST is in flight
never records it, so the delivery comes back 4.5 minutes later, whatever the retry schedule
says, with ``attempts`` still 0: its next POST carries ``X-Webhook-Attempt: 1`` again, and an
attempt lost every time is retried forever (it can never run out of attempts).

Required: a lost attempt counts; the delivery is due again after that attempt's timeout plus
the backoff delay before the next attempt; once the attempts are spent it settles ``failed``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from selfjourney.outbound.guard import guarded_client
from selfjourney.store import Store
from selfjourney.store.deliveries import Delivery, NewDelivery
from selfjourney.webhooks.dispatcher import Dispatcher
from selfjourney.webhooks.policy import RetryPolicy
from tests.clock import FakeClock
from tests.live import LiveServer, create_key, wait_job
from tests.receiver import Reply, WebhookReceiver
from tests.records import queued_job

#: Per-attempt timeout and retry delays of the store-level tests (seconds, on a FakeClock).
TIMEOUT = 2.0
BACKOFF = (5.0, 10.0)
#: The old lease: how long a leased delivery stays hidden (``Dispatcher.lease``).
LEASE_TODAY = 270.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    s = Store.connect(f"sqlite:///{tmp_path / 'selfjourney.db'}", clock)
    yield s
    s.close()


class Hang:
    """A transport whose POSTs never return (until released): the attempt is in flight when
    its process "dies". Records each attempt's headers."""

    def __init__(self) -> None:
        self.attempts: list[dict[str, str]] = []
        self.entered = threading.Semaphore(0)
        self.released = threading.Event()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append(dict(request.headers))
        self.entered.release()
        self.released.wait(30)
        return httpx.Response(204)  # only ever after the test, at teardown

    def wait_entered(self, timeout: float = 5.0) -> bool:
        return self.entered.acquire(timeout=timeout)


@pytest.fixture
def hang() -> Iterator[Hang]:
    h = Hang()
    yield h
    h.released.set()


@pytest.fixture
def process(
    store: Store, hang: Hang
) -> Iterator[Callable[[httpx.BaseTransport | None], Dispatcher]]:
    """Starts "a server process": a dispatcher on the shared store (a real client to loopback
    when no transport is given). Each one stays up, as a dead process's threads would hold
    their leases, until the test ends."""
    started: list[Dispatcher] = []

    def start(transport: httpx.BaseTransport | None = None) -> Dispatcher:
        if transport is None:
            client = guarded_client(allow_private=True, timeout=TIMEOUT)
        else:
            client = httpx.Client(transport=transport)
        dispatcher = Dispatcher(
            deliveries=store.deliveries,
            client=client,
            policy=RetryPolicy(3, BACKOFF),
            concurrency=1,
            timeout=TIMEOUT,
        )
        dispatcher.start()
        dispatcher.notify()
        started.append(dispatcher)
        return dispatcher

    yield start
    hang.released.set()  # let the "dead" attempts return, so their threads can stop
    for dispatcher in started:
        dispatcher.stop()


def _delivery(store: Store, url: str, max_attempts: int = 3) -> str:
    """A pending ``completed`` delivery of a fresh job, as ``Events`` writes it; the job id."""
    account, _ = store.accounts.create("t", credits=100)
    job, _ = store.jobs.create(queued_job(account.id))
    delivery_id = str(uuid.uuid4())
    headers = {"X-Webhook-Event": "completed", "X-Webhook-Id": delivery_id}
    new = NewDelivery(job.id, "completed", url, b"{}", headers, max_attempts, id=delivery_id)
    store.deliveries.add([new])
    return job.id


def _state(store: Store, job_id: str) -> Delivery:
    [delivery] = store.deliveries.for_job(job_id)
    return delivery


def test_a_lost_attempt_is_resent_after_timeout_plus_backoff_as_attempt_2(
    store, clock, hang, process
):
    """Proves the retry of a lost attempt waits for the lease (not the retry schedule) and
    does not count the lost attempt.

    Process 1 sends attempt 1, which never returns (the process "died"). The clock moves by
    the attempt's timeout plus the first backoff delay (2 + 5 s, plus 1 s); process 2 must
    then send the same delivery as attempt 2.
    Before the fix: nothing is sent; ``next_attempt_at`` is 270 s after attempt 1 started.
    """
    with WebhookReceiver() as receiver:
        job_id = _delivery(store, receiver.url)
        started = clock.now
        process(httpx.MockTransport(hang))
        assert hang.wait_entered(), "attempt 1 never went out"
        clock.advance(seconds=TIMEOUT + BACKOFF[0] + 1)
        process(None)
        try:
            [hook] = receiver.wait_for(1, timeout=5)
        except AssertionError:
            due = (_state(store, job_id).next_attempt_at - started).total_seconds()
            raise AssertionError(
                f"a lost attempt is retried {due:.0f} s after it started, not after "
                f"{TIMEOUT + BACKOFF[0]:.0f} s (its timeout plus the backoff)"
            ) from None
    assert hook.headers["x-webhook-id"] == hang.attempts[0]["x-webhook-id"]
    assert hook.headers["x-webhook-attempt"] == "2", "the lost attempt 1 was not counted"


def test_a_lost_attempt_counts_so_the_resend_is_attempt_2(store, clock, hang, process):
    """Proves a lost attempt is not counted: the resend says ``X-Webhook-Attempt: 1`` again.

    The clock is moved past the old 270 s lease, so the resend happens with or without a fix.
    Before the fix: the re-sent POST carries attempt "1".
    """
    with WebhookReceiver() as receiver:
        job_id = _delivery(store, receiver.url)
        process(httpx.MockTransport(hang))
        assert hang.wait_entered(), "attempt 1 never went out"
        clock.advance(seconds=LEASE_TODAY + 1)
        process(None)
        [hook] = receiver.wait_for(1, timeout=5)
    assert hook.headers["x-webhook-id"] == hang.attempts[0]["x-webhook-id"]
    assert hook.headers["x-webhook-attempt"] == "2", "the lost attempt 1 was not counted"
    assert _wait_settled(store, job_id).status == "delivered"


def _wait_settled(store: Store, job_id: str, timeout: float = 5.0) -> Delivery:
    deadline = time.monotonic() + timeout
    delivery = _state(store, job_id)
    while delivery.status == "pending" and time.monotonic() < deadline:
        time.sleep(0.02)
        delivery = _state(store, job_id)
    return delivery


def test_attempts_lost_every_time_run_out_and_settle_failed(store, clock, hang, process):
    """Proves a delivery whose every attempt is lost is handed out again and again.

    With 2 attempts allowed, three processes in turn die with the attempt in flight; the
    delivery may go out at most twice, then must read ``failed`` (the job's
    ``webhookStatus`` too), never stay ``pending`` or go out a third time.
    Before the fix: each process sends it, as attempt "1" every time (3 POSTs).
    """
    job_id = _delivery(store, "http://127.0.0.1:9/hook", max_attempts=2)
    for _ in range(3):
        process(httpx.MockTransport(hang))
        hang.wait_entered(timeout=2)  # the third one must not come
        clock.advance(seconds=LEASE_TODAY + 1)
    process(httpx.MockTransport(hang))  # one more poll, which may settle it
    delivery = _wait_settled(store, job_id)
    sent = [a["x-webhook-attempt"] for a in hang.attempts]
    assert len(sent) <= 2, f"a 2-attempt delivery went out {len(sent)} times, as attempts {sent}"
    assert delivery.status == "failed", delivery
    job = store.jobs.get(job_id)
    assert job is not None and job.webhook_status == "failed", job


# --- end to end: a real server killed while a POST is in flight ------------------------------

#: Small settings for the live test: each attempt may take 5 s, a retry waits 1 s.
LIVE_TIMEOUT = 5.0
LIVE_BACKOFF = 1.0
LIVE_ENV = {
    "SELFJOURNEY_WEBHOOK_ALLOW_PRIVATE": "1",
    "SELFJOURNEY_WEBHOOK_TIMEOUT": str(LIVE_TIMEOUT),
    "SELFJOURNEY_WEBHOOK_BACKOFF": str(LIVE_BACKOFF),
}
#: How long after the restart the resend may take: the rest of the lost attempt's timeout,
#: the backoff, and the dispatcher's poll, with room to spare (before the fix: about 270 s).
RESEND_DEADLINE = LIVE_TIMEOUT + LIVE_BACKOFF + 9.0


def test_a_webhook_in_flight_when_the_server_is_killed_is_resent_as_attempt_2(tmp_path: Path):
    """Proves, on a real ``selfjourney serve``, that a webhook POST lost in a crash comes back
    with the same ``X-Webhook-Id`` and ``X-Webhook-Attempt: 2`` within seconds.

    The receiver accepts the first POST and never answers; the server is killed with SIGKILL
    while that POST waits (well inside its 5 s timeout) and restarted on the same data dir.
    Before the fix: no second POST within the deadline (it would come 270 s after the first,
    as attempt 1 again).
    """
    data_dir = tmp_path / "data"
    key = create_key(data_dir, credits=100)
    with WebhookReceiver() as receiver:
        receiver.reply_with([Reply(204, delay=60.0)])  # hang; later attempts get a 204
        with LiveServer(data_dir, env=LIVE_ENV) as server, server.client(key) as client:
            body = {"model": "midjourney", "prompt": "a fox", "webhookUrl": receiver.url}
            job_id = client.post("/v2/images/generate", json=body).json()["jobId"]
            wait_job(client, job_id, {"COMPLETED"}, timeout=60, server=server)
            [first] = receiver.wait_for(1, timeout=15)
            in_flight_since = time.monotonic()
            server.kill()
            killed_after = time.monotonic() - in_flight_since
        assert killed_after < LIVE_TIMEOUT, f"kill took {killed_after:.1f} s: attempt 1 ended"
        assert first.headers["x-webhook-attempt"] == "1"

        with LiveServer(data_dir, env=LIVE_ENV) as server, server.client(key) as client:
            restarted = time.monotonic()
            try:
                _, again = receiver.wait_for(2, timeout=RESEND_DEADLINE)
            except AssertionError:
                server.fail(
                    f"no resend within {RESEND_DEADLINE:.0f} s of the restart "
                    f"(webhookStatus {client.get(f'/v2/jobs/{job_id}').json()['webhookStatus']})"
                )
            took = time.monotonic() - restarted
            assert again.headers["x-webhook-id"] == first.headers["x-webhook-id"]
            assert again.headers["x-webhook-attempt"] == "2", again.headers
            assert again.body == first.body
            deadline = time.monotonic() + 10
            status = None
            while time.monotonic() < deadline and status != "delivered":
                status = client.get(f"/v2/jobs/{job_id}").json()["webhookStatus"]
                time.sleep(0.05)
            assert status == "delivered", f"webhookStatus {status} {took:.1f} s after restart"
