"""Which feed a process uses: Redis when the settings name one, else in memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from selfjourney.config import Settings
from selfjourney.feed.local import LocalFeed

if TYPE_CHECKING:
    from selfjourney.feed.redis import RedisFeed


def build_feed(settings: Settings) -> LocalFeed | RedisFeed:
    """RedisFeed when ``settings.shared_redis_url`` is set (a fleet), else LocalFeed (one
    process). Redis is imported only then, so the embedded defaults need no Redis client."""
    url = settings.shared_redis_url
    if url is None:
        return LocalFeed()
    from selfjourney.feed.redis import RedisFeed

    return RedisFeed(url)
