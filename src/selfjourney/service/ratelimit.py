"""Requests a minute per API key, counted where every API process of a fleet sees the count.

A moving window (the ``limits`` library): at most ``per_minute`` requests in any 60 seconds,
with no burst of twice the limit across a minute's boundary as a fixed window allows, and the
exact moment a request passes again (the oldest counted one leaves the window) for
``Retry-After``. It keeps one timestamp per counted request (at most ``per_minute`` a key), in
Redis for a fleet, else in this process's memory. A refused request is not counted.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from selfjourney.domain.errors import RateLimited

log = logging.getLogger(__name__)


class RateLimit:
    """Counts each key's requests and refuses those past ``per_minute`` with ``RateLimited``.

    Usage::

        limit = RateLimit(60, redis_url="redis://127.0.0.1:6379/0")   # None: in memory
        limit.hit(account.id)
    """

    def __init__(self, per_minute: int, *, redis_url: str | None = None) -> None:
        self.per_minute = per_minute
        #: A check needs no network: it may run on the event loop, not in a thread.
        self.local = redis_url is None
        # A Redis that does not answer costs a request at most a second, then it passes.
        options = (
            {} if redis_url is None else {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
        )
        storage = storage_from_string(
            redis_url or "memory://", wrap_exceptions=True, key_prefix="selfjourney", **options
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._item = RateLimitItemPerMinute(per_minute)

    def hit(self, key: str) -> None:
        """Count one request of ``key``; RateLimited (nothing counted) when over the limit.

        If Redis cannot be reached the request passes, with a warning: fair use is not worth
        an outage of the API.
        """
        try:
            if self._limiter.hit(self._item, key):
                return
            reset = self._limiter.get_window_stats(self._item, key).reset_time
        except StorageError as exc:
            log.warning("rate limit not checked, its storage failed: %s", exc)
            return
        raise RateLimited(self.per_minute, max(1, math.ceil(reset - time.time())))
