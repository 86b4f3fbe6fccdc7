"""Crash and restart: a real ``selfjourney serve`` killed mid-render, or stopped with work
queued, finishes that work after a restart on the same data dir, once."""

from __future__ import annotations

import contextlib
import io
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.live import LedgerLine, LiveServer, create_key, credits_show, wait_job
from tests.receiver import WebhookReceiver

COST = 16
CREDITS = 100
#: How long a second ``completed`` webhook gets to show up before we call it absent.
#: Retries back off 0.05 s then 0.1 s here, so a duplicate would come well within this.
DUPLICATE_GRACE = 1.5
WEBHOOK_ENV = {
    "SELFJOURNEY_WEBHOOK_ALLOW_PRIVATE": "1",
    "SELFJOURNEY_WEBHOOK_BACKOFF": "0.05,0.1",
}


def submit(client: httpx.Client, **body: Any) -> str:
    payload = {"model": "midjourney", "prompt": "a lighthouse in a storm", **body}
    response = client.post("/v2/images/generate", json=payload)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "QUEUED"
    job_id: str = response.json()["jobId"]
    return job_id


def stored_job(data_dir: Path, job_id: str) -> tuple[str, int]:
    """(status, attempt) as the database holds them, read with no server running."""
    uri = f"file:{data_dir / 'selfjourney.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        row = db.execute("SELECT status, attempt FROM jobs WHERE id = ?", (job_id,)).fetchone()
    assert row is not None, f"job {job_id} is not in the database"
    return str(row[0]), int(row[1])


def download(client: httpx.Client, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def assert_rendered_once(server: LiveServer, client: httpx.Client, job: dict[str, Any]) -> None:
    """Four 1024² images and a 2048² grid, served and on disk exactly once, under the job id."""
    job_id = job["id"]
    images, grid = job["result"]["images"], job["result"]["gridUrl"]
    assert images == [f"{server.url}/cdn/images/{job_id}-{n}.png" for n in (1, 2, 3, 4)]
    assert grid == f"{server.url}/cdn/images/{job_id}-grid.png"
    for url in images:
        picture = download(client, url)
        assert (picture.format, picture.size) == ("PNG", (1024, 1024))
    assert download(client, grid).size == (2048, 2048)
    on_disk = sorted(p.name for p in (server.data_dir / "images").iterdir())
    assert on_disk == sorted([f"{job_id}-{n}.png" for n in (1, 2, 3, 4)] + [f"{job_id}-grid.png"])


def assert_charged_once(client: httpx.Client, data_dir: Path, key: str, job_id: str) -> None:
    assert client.get("/v2/me").json()["team"]["credits"] == CREDITS - COST
    balance, entries = credits_show(data_dir, key)
    assert balance == CREDITS - COST
    assert entries == [
        LedgerLine(CREDITS, "grant", CREDITS, None),
        LedgerLine(-COST, "charge", CREDITS - COST, job_id),
    ]


def assert_single_job(client: httpx.Client, job_id: str) -> None:
    """The restart re-ran the job in place: the account still has exactly this one job."""
    listed = client.get("/v2/jobs").json()["jobs"]
    assert [j["id"] for j in listed] == [job_id]


def test_server_killed_mid_render_completes_the_job_once_after_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = create_key(data_dir, CREDITS)
    with WebhookReceiver() as receiver:
        slow = LiveServer(data_dir, env={**WEBHOOK_ENV, "SELFJOURNEY_RENDER_DELAY": "3"})
        with slow, slow.client(key) as client:
            job_id = submit(client, webhookUrl=receiver.url, webhookEvents=["completed", "failed"])
            wait_job(client, job_id, {"PROCESSING"}, timeout=15, server=slow)
            slow.kill()
        assert slow.process.returncode == -signal.SIGKILL
        assert stored_job(data_dir, job_id) == ("PROCESSING", 1)
        assert receiver.requests == []

        fast = LiveServer(data_dir, env={**WEBHOOK_ENV, "SELFJOURNEY_RENDER_DELAY": "0.5"})
        with fast, fast.client(key) as client:
            job = wait_job(client, job_id, {"COMPLETED"}, timeout=30, server=fast)
            assert job["id"] == job_id
            assert (job["progress"], job["creditCost"], job["error"]) == (100, COST, None)
            assert_rendered_once(fast, client, job)
            assert_single_job(client, job_id)
            assert_charged_once(client, data_dir, key, job_id)

            [hook] = receiver.wait_for(1, timeout=15)
            with pytest.raises(AssertionError, match="expected 2 webhook requests"):
                receiver.wait_for(2, timeout=DUPLICATE_GRACE)
            fast_log = fast.log()
    assert stored_job(data_dir, job_id) == ("COMPLETED", 2), fast_log
    assert hook.headers["x-webhook-event"] == "completed"
    assert hook.json["jobId"] == job_id
    assert hook.json["status"] == "COMPLETED"
    assert hook.json["result"]["images"] == job["result"]["images"]


def test_job_queued_while_the_server_was_down_runs_after_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = create_key(data_dir, CREDITS)
    paused = LiveServer(data_dir, workers=0)
    with paused, paused.client(key) as client:
        job_id = submit(client)
        assert client.get(f"/v2/jobs/{job_id}").json()["status"] == "QUEUED"
        # uvicorn re-raises SIGTERM once shut down, so -SIGTERM is a clean exit too.
        assert paused.stop() in (0, -signal.SIGTERM), paused.log()
        assert "Application shutdown complete." in paused.log()
    assert stored_job(data_dir, job_id) == ("QUEUED", 0)

    with LiveServer(data_dir, workers=1) as server, server.client(key) as client:
        job = wait_job(client, job_id, {"COMPLETED"}, timeout=30, server=server)
        assert job["id"] == job_id
        assert_rendered_once(server, client, job)
        assert_single_job(client, job_id)
        assert_charged_once(client, data_dir, key, job_id)
    assert stored_job(data_dir, job_id) == ("COMPLETED", 1)
