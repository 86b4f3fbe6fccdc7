"""Two API processes of a fleet on one PostgreSQL database and one Redis: a job rendered by one
streams live from the other (``GET /v2/jobs/{id}/events``), step by step and promptly.

Both apps live in this test process but share nothing in memory: each has its own store, feed
(its own Redis connections) and queue, so a signal reaches the streaming app only through Redis.
Polling alone (a read every second) would coalesce the engine's steps, 0.15 s apart.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from selfjourney.embedded import build_embedded
from selfjourney.feed.redis import RedisFeed
from tests.conftest import make_settings
from tests.fakes import SlowEngine
from tests.server import ThreadedServer
from tests.sse import frames

#: Worst case from the worker's commit to the event on the other app's stream, on a busy box.
PROMPT = 0.6


class Stream(threading.Thread):
    """Reads a job's event stream, each event with the time it arrived."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.opened = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers={"X-API-Key": self.key}, timeout=30) as r:
                assert r.status_code == 200, r.read()
                for frame in frames(r.iter_lines()):
                    if frame.comment is None:
                        self.events.append((time.time(), frame.event or "", frame.data))
                        self.opened.set()
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.opened.set()


def test_a_job_rendered_by_one_app_streams_live_from_another(
    tmp_path: Path, postgres_url: str, redis_url: str
):
    shared = {"database_url": postgres_url, "redis_url": redis_url}
    api = build_embedded(make_settings(tmp_path / "api", workers=0, **shared))
    renderer = build_embedded(
        make_settings(tmp_path / "renderer", workers=0, **shared), engine=SlowEngine()
    )
    assert isinstance(api.feed, RedisFeed) and isinstance(renderer.feed, RedisFeed)
    _, key = api.store.accounts.create("fleet", credits=100)
    with ThreadedServer(api.app()) as server, TestClient(renderer.app()) as submit:
        # queued on the renderer's own queue; it renders once the other app's stream is open
        response = submit.post(
            "/v2/images/generate",
            json={"model": "midjourney", "prompt": "dunes"},
            headers={"X-API-Key": key},
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["jobId"]
        stream = Stream(f"{server.url}/v2/jobs/{job_id}/events", key)
        stream.start()
        assert stream.opened.wait(10) and stream.error is None, stream.error
        assert renderer.queue.drain() == 1  # renders here, as a worker process would
        stream.join(10)
        assert not stream.is_alive() and stream.error is None, stream.error
        final = submit.get(f"/v2/jobs/{job_id}", headers={"X-API-Key": key}).json()

    statuses = [job["status"] for _, _, job in stream.events]
    assert statuses[0] == "QUEUED" and statuses[-1] == "COMPLETED", statuses
    steps = [job["progress"] for _, _, job in stream.events if job["status"] == "PROCESSING"]
    assert len(set(steps)) >= 4 and steps == sorted(steps), steps  # each step, not a poll's
    arrived, name, last = stream.events[-1]
    assert name == "completed" and last == final
    completed = datetime.fromisoformat(final["completedAt"].replace("Z", "+00:00")).timestamp()
    assert arrived - completed < PROMPT, arrived - completed
