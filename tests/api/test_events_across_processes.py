"""The event stream of a real ``selfjourney serve`` process: a job rendered by another process
than the one streaming it, and a shutdown with a stream open.

The API process has no worker thread, so it never renders; this test process renders the job
with its own worker side over the same SQLite data dir (its own store connection, storage and
no feed). No signal crosses between the processes: the stream sees the job move because
``Service.wait`` reads the row again at least every second.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from selfjourney.dialects.registry import webhook_styles
from selfjourney.engines.upscale import Lanczos
from selfjourney.storage.local import LocalStorage
from selfjourney.store import Store
from selfjourney.worker.side import build_worker_side
from tests.conftest import make_settings
from tests.fakes import SlowEngine
from tests.live import LiveServer
from tests.sse import Frame, frames

#: Reads of the row are at most a second apart, so an event trails its change by about that.
CROSS_PROCESS_LATENCY = 1.0


class Reader(threading.Thread):
    """Collects a job's stream, with the time each frame arrived."""

    def __init__(self, server: LiveServer, key: str, job_id: str) -> None:
        super().__init__(daemon=True)
        self.url = f"{server.url}/v2/jobs/{job_id}/events"
        self.key = key
        self.received: list[tuple[float, Frame]] = []
        self.opened = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            headers = {"X-API-Key": self.key}
            with httpx.stream("GET", self.url, headers=headers, timeout=30) as response:
                assert response.status_code == 200, response.read()
                for frame in frames(response.iter_lines()):
                    self.received.append((time.time(), frame))
                    self.opened.set()
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.opened.set()

    def events(self) -> list[tuple[float, dict[str, Any], str]]:
        return [(at, f.data, f.event or "") for at, f in self.received if f.comment is None]


def _key(data_dir: Path) -> str:
    data_dir.mkdir()
    store = Store.connect(make_settings(data_dir).db_url)
    try:
        return store.accounts.create("events", credits=100)[1]
    finally:
        store.close()


def _submit(server: LiveServer, key: str) -> str:
    with server.client(key) as http:
        response = http.post("/v2/images/generate", json={"model": "midjourney", "prompt": "dunes"})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["jobId"]
    return job_id


def _render_here(data_dir: Path, job_id: str) -> None:
    """Render ``job_id`` in this process, as a worker process of the fleet would."""
    settings = make_settings(data_dir)
    store = Store.connect(settings.db_url)
    storage = LocalStorage(data_dir, settings.base_url)
    side = build_worker_side(
        settings,
        store=store,
        storage=storage,
        styles=webhook_styles(settings),
        engine=SlowEngine(),  # progress in visible steps
        upscaler=Lanczos(),
    )
    try:
        side.worker.run(job_id)
    finally:
        side.stop()
        store.close()


def test_a_job_rendered_by_another_process_streams_to_the_end(tmp_path: Path):
    data_dir = tmp_path / "data"
    key = _key(data_dir)
    with LiveServer(data_dir, workers=0) as api:
        job_id = _submit(api, key)
        reader = Reader(api, key, job_id)
        reader.start()
        assert reader.opened.wait(10) and reader.error is None, reader.error
        _render_here(data_dir, job_id)
        reader.join(10)
        assert not reader.is_alive(), api.fail("the stream did not close after the job ended")
        assert reader.error is None, reader.error
        with api.client(key) as http:
            final = http.get(f"/v2/jobs/{job_id}").json()

    events = reader.events()
    statuses = [job["status"] for _, job, _ in events]
    assert statuses[0] == "QUEUED" and statuses[-1] == "COMPLETED", statuses
    assert "PROCESSING" in statuses, statuses
    progress = [job["progress"] for _, job, _ in events if job["status"] == "PROCESSING"]
    assert progress == sorted(progress) and any(0 < p < 100 for p in progress), progress
    arrived, last, name = events[-1]
    assert name == "completed" and last == final and len(last["result"]["images"]) == 4
    completed = datetime.fromisoformat(final["completedAt"].replace("Z", "+00:00")).timestamp()
    assert arrived - completed < CROSS_PROCESS_LATENCY + 1.5, arrived - completed


def test_a_shutdown_ends_open_streams_instead_of_waiting_for_them(tmp_path: Path):
    data_dir = tmp_path / "data"
    key = _key(data_dir)
    server = LiveServer(data_dir, workers=0).start()
    try:
        reader = Reader(server, key, _submit(server, key))  # stays QUEUED: no worker
        reader.start()
        assert reader.opened.wait(10) and reader.error is None, reader.error
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 5, server.log()
        reader.join(5)
    finally:
        server.kill()
    assert not reader.is_alive() and reader.error is None, reader.error  # ended, not cut
    assert [job["status"] for _, job, _ in reader.events()] == ["QUEUED"]
