"""Which feed a process builds: Redis when the settings name one, the broker's if it is Redis,
else in memory; and the embedded defaults do not even import the Redis client (an optional
dependency, the ``redis`` extra)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from selfjourney.config import Settings
from selfjourney.feed.local import LocalFeed
from selfjourney.feed.redis import RedisFeed
from selfjourney.feed.select import build_feed
from tests.live import command_env

REDIS = "redis://cache.internal:6379/1"
BROKER = "redis://broker.internal:6379/0"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, None),
        ({"redis_url": REDIS}, REDIS),
        ({"broker_url": BROKER}, BROKER),
        ({"broker_url": "rediss://broker.internal:6380/0"}, "rediss://broker.internal:6380/0"),
        ({"broker_url": "amqp://guest@rabbit.internal//"}, None),
        ({"redis_url": REDIS, "broker_url": BROKER}, REDIS),
    ],
)
def test_the_shared_redis_is_redis_url_else_a_redis_broker(tmp_path: Path, values, expected):
    settings = Settings(data_dir=tmp_path, **values)
    assert settings.shared_redis_url == expected
    feed = build_feed(settings)  # no connection yet: threads and sockets start on first use
    try:
        assert isinstance(feed, RedisFeed if expected else LocalFeed)
    finally:
        feed.close()


def test_the_embedded_defaults_never_import_redis(tmp_path: Path):
    script = (
        "import sys; from pathlib import Path; from selfjourney.config import Settings; "
        "from selfjourney.feed.select import build_feed; "
        f"build_feed(Settings(data_dir=Path({str(tmp_path)!r}))); "
        "print('redis' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
