"""Signals across processes through Redis pub/sub: every API process of a fleet hears every job
change within milliseconds, so an event stream works behind a load balancer.

One channel for all jobs (``selfjourney:jobs``, the job id as payload), not a channel per job:
a watch then starts and ends in memory, with no SUBSCRIBE round trip per stream and no signal
lost between a watch starting and its subscription landing; a process receives every job's
changes (at most 20 a second per rendering job, a few dozen bytes each) and drops those nobody
watches with one dict lookup. Per-job channels would pay off only with far more rendering jobs
than watched ones across far more API processes than a fleet runs.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.client import PubSub
from redis.retry import Retry

from selfjourney.feed.local import LocalFeed, LocalWatch

log = logging.getLogger(__name__)

CHANNEL = "selfjourney:jobs"
#: Seconds before the first reconnection or resend after a failure; doubled up to the maximum.
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 5.0
#: How long the listener blocks on an idle connection: bounds how long ``close`` waits.
LISTEN_TICK = 0.25
#: A connection unanswered this long (seconds) counts as lost.
SOCKET_TIMEOUT = 2.0


class RedisFeed:
    """A feed shared by processes: a publish goes out on Redis, and one subscriber connection
    per process wakes the process's own watches (``LocalFeed`` fans out in memory).

    Usage::

        feed = RedisFeed("redis://127.0.0.1:6379/0")   # threads start on first use
        feed.publish(job_id)                            # a worker: never blocks, never raises
        with feed.watch(job_id) as watch: ...           # an API process, as with LocalFeed
        feed.close()
    """

    def __init__(self, url: str, *, channel: str = CHANNEL) -> None:
        self.channel = channel
        #: Names this process's connections (``CLIENT LIST``) and marks its own messages.
        self.origin = uuid.uuid4().hex[:12]
        self._local = LocalFeed()
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 1),  # one immediate reconnect (a pooled connection died)
            client_name=f"selfjourney-feed-{self.origin}",
            health_check_interval=30,
        )
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._sender: threading.Thread | None = None
        self._listener: threading.Thread | None = None

    def publish(self, job_id: str) -> None:
        """Wake this process's watches at once; hand the signal to the sender thread."""
        self._local.publish(job_id)
        with self._lock:
            if self._closed.is_set():
                return
            self._pending.add(job_id)  # a set: signals of one job not yet sent merge
            if self._sender is None:
                self._sender = _start(self._send_loop, "selfjourney-feed-send")
        self._wake.set()

    def watch(self, job_id: str) -> LocalWatch:
        with self._lock:
            if self._listener is None and not self._closed.is_set():
                self._listener = _start(self._listen_loop, "selfjourney-feed-listen")
        return self._local.watch(job_id)

    def watching(self) -> int:
        """How many watches are open in this process (tests: none is left behind)."""
        return self._local.watching()

    def close(self) -> None:
        """Send what is pending, stop both threads, release the connections."""
        with self._lock:
            self._closed.set()
            threads = [t for t in (self._sender, self._listener) if t is not None]
        self._wake.set()
        for thread in threads:
            thread.join(SOCKET_TIMEOUT * 2)
        self._client.close()

    def _send_loop(self) -> None:
        failures = 0
        while not (self._closed.is_set() and not self._pending):
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                batch, self._pending = self._pending, set()
            if not batch:
                continue
            try:
                with self._client.pipeline(transaction=False) as pipe:
                    for job_id in batch:
                        pipe.publish(self.channel, f"{job_id} {self.origin}")
                    pipe.execute()
            except (redis.RedisError, OSError) as exc:
                failures = _failed(failures, "publish job changes to", exc)
                self._closed.wait(_backoff(failures))  # watchers poll the row meanwhile
                continue
            failures = _recovered(failures)

    def _listen_loop(self) -> None:
        failures = 0
        while not self._closed.is_set():
            pubsub = PubSub(self._client.connection_pool)
            try:
                pubsub.subscribe(self.channel)
                failures = self._listen(pubsub, failures)
            except (redis.RedisError, OSError) as exc:
                failures = _failed(failures, "hear job changes from", exc)
                self._closed.wait(_backoff(failures))
            finally:
                pubsub.close()

    def _listen(self, pubsub: PubSub, failures: int) -> int:
        while not self._closed.is_set():
            message = pubsub.get_message(timeout=LISTEN_TICK)
            if message is None:
                continue
            if message["type"] == "subscribe":
                # (Re)connected: signals sent meanwhile are lost, so every watch reads again.
                failures = _recovered(failures)
                self._local.publish_all()
            elif message["type"] == "message":
                job_id, _, origin = _text(message["data"]).partition(" ")
                if origin != self.origin:  # our own went to our watches already
                    self._local.publish(job_id)
        return failures


def _start(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def _text(data: object) -> str:
    return data.decode() if isinstance(data, bytes) else str(data)


def _backoff(failures: int) -> float:
    return float(min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (failures - 1)))


def _failed(failures: int, what: str, exc: BaseException) -> int:
    """Log the first failure of an outage only; later ones until it ends are quiet."""
    if failures == 0:
        log.warning(
            "cannot %s Redis (%s): live progress falls back to reading jobs every second; "
            "retrying with backoff",
            what,
            exc,
        )
    return failures + 1


def _recovered(failures: int) -> int:
    if failures:
        log.info("Redis answers again: live progress is back")
    return 0
