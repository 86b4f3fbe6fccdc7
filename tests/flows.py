"""Client-side steps the API tests repeat: submit, run the queue, fetch, download images."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from selfjourney.embedded import Embedded


def drain(client: TestClient) -> None:
    """Run every queued job now, in this thread (the test app has no worker threads)."""
    runtime: Embedded = client.app.state.process  # type: ignore[attr-defined]
    runtime.queue.drain()


def generate(client: TestClient, headers: dict[str, str], **body: Any) -> str:
    payload = {"model": "midjourney", "prompt": "a red fox in the snow", **body}
    response = client.post("/v2/images/generate", json=payload, headers=headers)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["jobId"]
    return job_id


def act(client: TestClient, headers: dict[str, str], parent: str, **body: Any) -> str:
    response = client.post(
        "/v2/images/midjourney/action", json={"parentJobId": parent, **body}, headers=headers
    )
    assert response.status_code == 202, response.text
    job_id: str = response.json()["jobId"]
    return job_id


def finished(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """Drain the queue and return the job, which must be COMPLETED."""
    drain(client)
    job: dict[str, Any] = client.get(f"/v2/jobs/{job_id}", headers=headers).json()
    assert job["status"] == "COMPLETED", job
    return job


def download(client: TestClient, url: str) -> Image.Image:
    """Fetch an image URL the way a client would and decode it."""
    path = url.removeprefix("http://testserver")
    response = client.get(path)
    assert response.status_code == 200, (url, response.status_code)
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def balance(client: TestClient, headers: dict[str, str]) -> int:
    credits: int = client.get("/v2/me", headers=headers).json()["team"]["credits"]
    return credits
