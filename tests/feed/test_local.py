"""The in-process feed: a publish from any thread wakes the job's watches, and only theirs."""

from __future__ import annotations

import asyncio
import threading
import time

from selfjourney.feed.local import LocalFeed


def test_a_publish_from_another_thread_wakes_the_watch():
    feed = LocalFeed()

    async def main() -> tuple[bool, float]:
        with feed.watch("job") as watch:
            started = time.monotonic()
            threading.Timer(0.05, feed.publish, ("job",)).start()
            woke = await watch.wait(5)
            return woke, time.monotonic() - started

    woke, took = asyncio.run(main())
    assert woke and took < 1.0


def test_a_publish_between_watching_and_waiting_is_not_lost():
    feed = LocalFeed()

    async def main() -> list[bool]:
        with feed.watch("job") as watch:
            feed.publish("job")  # after the watch began, before anyone waits
            return [await watch.wait(0), await watch.wait(0.05)]

    assert asyncio.run(main()) == [True, False]  # counted once, then cleared


def test_only_the_jobs_own_watches_wake_and_none_is_left_behind():
    feed = LocalFeed()

    async def main() -> list[bool]:
        with feed.watch("a") as first, feed.watch("a") as second, feed.watch("b") as other:
            assert feed.watching() == 3
            feed.publish("a")
            return [await first.wait(1), await second.wait(1), await other.wait(0.05)]

    assert asyncio.run(main()) == [True, True, False]
    assert feed.watching() == 0


def test_a_publish_after_the_loop_closed_is_harmless():
    feed = LocalFeed()

    async def main() -> None:
        feed.watch("job").__enter__()  # a watch whose owner never left: its loop will close

    asyncio.run(main())
    feed.publish("job")
