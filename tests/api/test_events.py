"""``GET /v2/jobs/{id}/events``: Server-Sent Events over real HTTP (uvicorn in a thread).

Ordering (every change once, in order, the final job last), closing (the stream ends after the
final event; a finished job sends it at once), keep-alive comments while idle, the v2 error
envelope before a stream starts, and the route in the OpenAPI document. A job rendered by
another process is in ``test_events_across_processes.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from selfjourney.embedded import Embedded, build_embedded
from selfjourney.engines.base import Engine
from tests.conftest import make_settings
from tests.fakes import FailingEngine, SlowEngine
from tests.server import ThreadedServer
from tests.sse import Frame, frames

KEEPALIVE = 0.2
TIMEOUT = httpx.Timeout(10.0)


@dataclass
class Served:
    runtime: Embedded
    url: str
    key: str

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"X-API-Key": key or self.key}
        return httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT)

    def generate(self, prompt: str = "a lighthouse at dusk") -> str:
        with self.client() as http:
            body = {"model": "midjourney", "prompt": prompt}
            response = http.post("/v2/images/generate", json=body)
        assert response.status_code == 202, response.text
        job_id: str = response.json()["jobId"]
        return job_id


def _serve(tmp_path: Path, workers: int, engine: Engine | None = None) -> Iterator[Served]:
    settings = make_settings(tmp_path / "data", workers=workers, events_keepalive=KEEPALIVE)
    runtime = build_embedded(settings, engine=engine)
    _, key = runtime.store.accounts.create("events", credits=1000)
    with ThreadedServer(runtime.app()) as server:
        yield Served(runtime, server.url, key)


@pytest.fixture
def rendering(tmp_path: Path) -> Iterator[Served]:
    """One worker thread and an engine that reports progress in visible steps."""
    yield from _serve(tmp_path, workers=1, engine=SlowEngine())


@pytest.fixture
def paused(tmp_path: Path) -> Iterator[Served]:
    """No worker thread: a job stays QUEUED."""
    yield from _serve(tmp_path, workers=0)


def _stream(served: Served, job_id: str) -> list[Frame]:
    """Every frame until the server closes the stream."""
    with (
        served.client() as http,
        http.stream("GET", f"/v2/jobs/{job_id}/events") as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        return list(frames(response.iter_lines()))


def _events(received: list[Frame]) -> list[Frame]:
    return [frame for frame in received if frame.comment is None]


def test_every_change_in_order_then_the_final_job_then_the_end(rendering: Served):
    job_id = rendering.generate()
    received = _events(_stream(rendering, job_id))

    jobs: list[dict[str, Any]] = [frame.data for frame in received]
    names = [frame.event for frame in received]
    assert names == ["progress"] * (len(names) - 1) + ["completed"], names
    assert all(job["id"] == job_id for job in jobs)
    states = [(job["status"], job["progress"]) for job in jobs]
    assert len(set(states)) == len(states), f"a state was sent twice: {states}"
    order = {"QUEUED": 0, "PROCESSING": 1, "COMPLETED": 2}
    assert states == sorted(states, key=lambda s: (order[s[0]], s[1])), states
    assert any(status == "PROCESSING" and 0 < p < 100 for status, p in states), states
    with rendering.client() as http:
        final = http.get(f"/v2/jobs/{job_id}").json()
    assert jobs[-1] == final  # the job as GET /v2/jobs/{id} renders it
    assert len(final["result"]["images"]) == 4


def test_a_finished_job_sends_its_final_state_at_once(rendering: Served):
    job_id = rendering.generate()
    _stream(rendering, job_id)  # until it ended
    started = time.monotonic()
    received = _stream(rendering, job_id)
    assert [frame.event for frame in received] == ["completed"]
    assert time.monotonic() - started < KEEPALIVE * 5  # no wait, no keep-alive first


def test_a_failed_job_ends_the_stream_with_failed(tmp_path: Path):
    for served in _serve(tmp_path, workers=1, engine=FailingEngine()):
        received = _events(_stream(served, served.generate()))
        final = received[-1]
        assert final.event == "failed" and final.data["status"] == "FAILED"
        assert final.data["error"] == "Image generation failed: CUDA out of memory"
        assert final.data["creditCost"] == 0  # refunded


def test_an_idle_stream_sends_keep_alive_comments(paused: Served):
    job_id = paused.generate()
    with (
        paused.client() as http,
        http.stream("GET", f"/v2/jobs/{job_id}/events") as response,
    ):
        received: list[Frame] = []
        for frame in frames(response.iter_lines()):
            received.append(frame)
            if len(received) == 3:
                break
    first, *rest = received
    assert first.event == "progress" and first.data["status"] == "QUEUED"
    assert [frame.comment for frame in rest] == ["keep-alive", "keep-alive"]


def test_a_client_that_leaves_releases_its_watch(paused: Served):
    """The stream holds one watch on the feed while it waits, and none once the client left."""
    feed = paused.runtime.feed
    with (
        paused.client() as http,
        http.stream("GET", f"/v2/jobs/{paused.generate()}/events") as response,
    ):
        # Kept in a name: a generator dropped early would close the connection with it.
        stream = frames(response.iter_lines())
        received = [next(stream) for _ in range(4)]  # the job, then three keep-alives
        assert [frame.comment for frame in received[1:]] == ["keep-alive"] * 3
        _until(lambda: feed.watching() > 0)  # back to waiting after the comment
        assert feed.watching() == 1  # one at a time, not one more per keep-alive
    _until(lambda: feed.watching() == 0)  # the server notices the closed connection
    assert feed.watching() == 0


def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_stream_that_was_idle_still_gets_the_job(paused: Served):
    """Keep-alives do not stop the stream from noticing the job move (here: rendered by a
    drain in this thread, as a worker would)."""
    job_id = paused.generate()
    with (
        paused.client() as http,
        http.stream("GET", f"/v2/jobs/{job_id}/events") as response,
    ):
        lines = response.iter_lines()
        received = []
        for frame in frames(lines):
            received.append(frame)
            if frame.comment == "keep-alive":
                paused.runtime.queue.drain()
        events = _events(received)
    assert events[0].data["status"] == "QUEUED"
    assert events[-1].event == "completed" and events[-1].data["progress"] == 100


@pytest.mark.parametrize(
    ("path", "headers", "status", "error"),
    [
        ("/v2/jobs/{unknown}/events", None, 404, "Job not found"),
        ("/v2/jobs/not-a-uuid/events", None, 400, "Validation error"),
        ("/v2/jobs/{job}/events", {}, 401, "API key is required"),
        ("/v2/jobs/{job}/events", {"X-API-Key": "afk_wrong"}, 401, "Invalid API key"),
    ],
    ids=["unknown", "malformed", "no-key", "wrong-key"],
)
def test_refusals_come_before_the_stream_in_the_v2_envelope(paused, path, headers, status, error):
    job_id = paused.generate()
    url = path.format(unknown="00000000-0000-4000-8000-000000000000", job=job_id)
    with httpx.Client(base_url=paused.url, timeout=TIMEOUT) as http:
        sent = headers if headers is not None else {"X-API-Key": paused.key}
        response = http.get(url, headers=sent)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"].startswith(error)


def test_another_keys_job_is_not_found(paused: Served):
    job_id = paused.generate()
    _, other = paused.runtime.store.accounts.create("other", credits=0)
    with paused.client(other) as http:
        response = http.get(f"/v2/jobs/{job_id}/events")
    assert response.status_code == 404 and response.json() == {"error": "Job not found"}


def test_the_stream_is_in_the_openapi_document(paused: Served):
    with paused.client() as http:
        operation = http.get("/openapi.json").json()["paths"]["/v2/jobs/{id}/events"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert {"401", "404"} <= set(operation["responses"])
    assert operation["security"] == [{"ApiKeyAuth": []}]
    assert "X-API-Key" in operation["description"]
