"""The Redis feed: a publish in one process wakes the watches of another, a thousand watches
share one connection, and Redis going away costs promptness, never a render or a wait."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
import redis

from selfjourney.feed.redis import RedisFeed
from tests.feed.conftest import RedisServer


def _connections(url: str, feed: RedisFeed, kind: str = "pubsub") -> list[str]:
    """Ids of ``feed``'s connections of one kind, as Redis lists them."""
    with redis.Redis.from_url(url) as client:
        name = f"selfjourney-feed-{feed.origin}"
        return [c["id"] for c in client.client_list(_type=kind) if c["name"] == name]


@pytest.fixture
def feeds(redis_url: str, channel: str):
    """Two feeds on one channel: the processes of a fleet."""
    api, worker = RedisFeed(redis_url, channel=channel), RedisFeed(redis_url, channel=channel)
    yield api, worker
    api.close()
    worker.close()


async def _subscribed(watch, feed: RedisFeed, url: str) -> None:
    """The first subscription wakes every watch (nothing heard before it): wait for it."""
    assert await watch.wait(5), "the feed never subscribed"
    assert len(_connections(url, feed)) == 1


def test_a_publish_in_one_process_wakes_the_watch_in_another(feeds, redis_url):
    api, worker = feeds

    async def main() -> tuple[list[bool], float]:
        with api.watch("job") as watch, api.watch("other") as other:
            await _subscribed(watch, api, redis_url)
            assert await other.wait(1)  # woken by the subscription too: cleared now
            started = time.monotonic()
            worker.publish("job")
            woke = [await watch.wait(5), await other.wait(0.1)]
            return woke, time.monotonic() - started

    woke, took = asyncio.run(main())
    assert woke == [True, False] and took < 1.0, (woke, took)
    assert api.watching() == 0


def test_a_thousand_watches_share_one_connection(feeds, redis_url):
    api, worker = feeds
    jobs = [f"job-{n}" for n in range(1000)]

    async def main() -> list[bool]:
        with api.watch("first") as first:
            await _subscribed(first, api, redis_url)
            watches = [api.watch(job).__enter__() for job in jobs]
            assert api.watching() == 1001
            for job in jobs:
                worker.publish(job)
            woke = await asyncio.gather(*(watch.wait(5) for watch in watches))
            for watch in watches:
                watch.__exit__(None, None, None)
            return list(woke)

    assert asyncio.run(main()) == [True] * 1000
    assert len(_connections(redis_url, api)) == 1 and _connections(redis_url, api, "normal") == []


def test_the_subscriber_comes_back_after_its_connection_is_killed(feeds, redis_url):
    api, worker = feeds

    async def main() -> list[bool]:
        with api.watch("job") as watch:
            await _subscribed(watch, api, redis_url)
            killed = _connections(redis_url, api)
            with redis.Redis.from_url(redis_url) as client:
                client.client_kill_filter(_id=killed[0])
            back = await watch.wait(5)  # the new subscription wakes every watch to re-read
            assert _connections(redis_url, api) not in ([], killed)
            worker.publish("job")
            return [back, await watch.wait(5)]

    assert asyncio.run(main()) == [True, True]


def test_a_publish_while_redis_is_down_neither_raises_nor_blocks(own_redis: RedisServer, caplog):
    own_redis.stop()
    feed = RedisFeed(own_redis.url)

    async def main() -> tuple[bool, float]:
        with feed.watch("job") as watch:
            started = time.monotonic()
            for _ in range(100):
                feed.publish("job")
            took = time.monotonic() - started
            return await watch.wait(1), took  # this process's own watches still hear it

    with caplog.at_level(logging.WARNING, logger="selfjourney.feed.redis"):
        woke, took = asyncio.run(main())
        feed.close()
    assert woke and took < 0.5, took  # a blocked publish would wait on a 2 s socket timeout
    # one warning per thread (sender, listener) for the whole outage, not one per attempt
    assert 1 <= len([r for r in caplog.records if r.levelno == logging.WARNING]) <= 2


def test_both_threads_recover_after_redis_restarts(own_redis: RedisServer, caplog):
    api, worker = RedisFeed(own_redis.url), RedisFeed(own_redis.url)

    async def main() -> list[bool]:
        with api.watch("job") as watch:
            assert await watch.wait(5)  # subscribed
            worker.publish("job")
            assert await watch.wait(5)
            own_redis.stop()
            worker.publish("job")  # lost: nobody to carry it
            own_redis.start()
            back = await watch.wait(10)  # resubscribed, so every watch re-reads
            # the sender may still be backing off after the lost publish: the listener wakes
            # the watch when a later signal gets through
            worker.publish("job")
            return [back, await watch.wait(10)]

    with caplog.at_level(logging.INFO, logger="selfjourney.feed.redis"):
        try:
            assert asyncio.run(main()) == [True, True]
        finally:
            api.close()
            worker.close()
    messages = [r.getMessage() for r in caplog.records]
    assert any("live progress is back" in m for m in messages), messages
