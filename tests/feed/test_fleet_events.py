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
from PIL import Image

from selfjourney.domain.commands import Imagine
from selfjourney.embedded import build_embedded
from selfjourney.engines.base import Picture, ProgressFn, Spec
from selfjourney.engines.procedural import ProceduralEngine
from selfjourney.feed.redis import RedisFeed
from tests.conftest import make_settings
from tests.live import free_port
from tests.server import ThreadedServer
from tests.sse import frames

#: Worst case from the worker's commit to the event on the other app's stream, on a busy box.
PROMPT = 0.6


class SteppingEngine(ProceduralEngine):
    """Five progress steps 0.15 s apart, then flat pictures: the steps, without a render's cost."""

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        gate = threading.Event()
        for step in range(1, 6):
            progress(step / 6)
            gate.wait(0.15)  # pretend-GPU time between progress reports
        return [Picture(Image.new("RGB", (spec.width, spec.height), "gray")) for _ in range(count)]


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
        make_settings(tmp_path / "renderer", workers=0, **shared), engine=SteppingEngine()
    )
    assert isinstance(api.feed, RedisFeed) and isinstance(renderer.feed, RedisFeed)
    account, key = api.store.accounts.create("fleet", credits=100)
    headers = {"X-API-Key": key}
    try:
        with ThreadedServer(api.app()) as server:
            # accepted by the renderer (on its own queue); it renders once the stream is open
            job, _ = renderer.service.imagine(account, Imagine("dunes"))
            stream = Stream(f"{server.url}/v2/jobs/{job.id}/events", key)
            stream.start()
            assert stream.opened.wait(10) and stream.error is None, stream.error
            assert renderer.queue.drain() == 1  # renders here, as a worker process would
            stream.join(10)
            assert not stream.is_alive() and stream.error is None, stream.error
            final = httpx.get(f"{server.url}/v2/jobs/{job.id}", headers=headers).json()
    finally:
        renderer.stop()

    statuses = [job["status"] for _, _, job in stream.events]
    assert statuses[0] == "QUEUED" and statuses[-1] == "COMPLETED", statuses
    steps = [job["progress"] for _, _, job in stream.events if job["status"] == "PROCESSING"]
    assert len(set(steps)) >= 4 and steps == sorted(steps), steps  # each step, not a poll's
    arrived, name, last = stream.events[-1]
    assert name == "completed" and last == final
    completed = datetime.fromisoformat(final["completedAt"].replace("Z", "+00:00")).timestamp()
    assert arrived - completed < PROMPT, arrived - completed


def test_a_job_renders_and_streams_while_redis_is_down(tmp_path: Path):
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = make_settings(tmp_path / "data", redis_url=down)
    runtime = build_embedded(settings, engine=SteppingEngine())
    _, key = runtime.store.accounts.create("fleet", credits=100)
    headers = {"X-API-Key": key}
    with TestClient(runtime.app()) as client:
        response = client.post(
            "/v2/images/generate", json={"model": "midjourney", "prompt": "dunes"}, headers=headers
        )
        job_id = response.json()["jobId"]
        assert runtime.queue.drain() == 1  # every publish of the render went nowhere
        with client.stream("GET", f"/v2/jobs/{job_id}/events", headers=headers) as stream:
            events = [frame.event for frame in frames(stream.iter_lines())]
    assert events == ["completed"]
