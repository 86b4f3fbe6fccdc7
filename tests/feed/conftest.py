"""Redis for the feed's tests: the machine's own on loopback (skipped when it is down, failed in
CI), and throwaway ``redis-server`` processes a test may stop and start again."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.live import free_port

REDIS_URL = os.environ.get("SELFJOURNEY_TEST_REDIS", "redis://127.0.0.1:6379/0")
REDIS_SERVER = shutil.which("redis-server")


def _redis_available() -> bool:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis; other sessions may share it, so tests use channels of their own."""
    if not _redis_available():
        if os.environ.get("CI"):
            pytest.fail(f"Redis must be running in CI ({REDIS_URL})")
        pytest.skip(f"Redis is not running at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def channel() -> str:
    return f"selfjourney-test:{uuid.uuid4().hex[:12]}"


class RedisServer:
    """A ``redis-server`` of this test's own on a free port, without persistence."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> RedisServer:
        assert REDIS_SERVER is not None
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        for line in self._process.stdout:  # blocks on the server's own log, no polling
            if "Ready to accept connections" in line:
                return self
        raise AssertionError(f"redis-server exited {self._process.wait()} on start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            assert self._process.stdout is not None
            self._process.stdout.close()
            self._process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()
