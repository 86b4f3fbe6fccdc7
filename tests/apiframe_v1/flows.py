"""Client-side steps the v1 tests repeat: submit, run the queue, fetch, download."""

from __future__ import annotations

import base64
import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from tests.flows import drain


def submit(client: TestClient, auth: dict[str, str], path: str, **body: Any) -> str:
    response = client.post(path, json=body, headers=auth)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"task_id"}
    task_id: str = response.json()["task_id"]
    return task_id


def fetch(client: TestClient, auth: dict[str, str], task_id: str) -> dict[str, Any]:
    response = client.post("/fetch", json={"task_id": task_id}, headers=auth)
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


def done(client: TestClient, auth: dict[str, str], task_id: str) -> dict[str, Any]:
    """Drain the queue and return the task, which must be completed."""
    drain(client)
    task = fetch(client, auth, task_id)
    assert task["status"] == "completed", task
    return task


def submit_done(client: TestClient, auth: dict[str, str], path: str, **body: Any) -> str:
    """Submit, run the queue, check the task completed; its id."""
    task_id = submit(client, auth, path, **body)
    done(client, auth, task_id)
    return task_id


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert the v1 error envelope: JSON ``errors[].msg``, ``message`` and ``code``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["errors"] and all(isinstance(e["msg"], str) and e["msg"] for e in body["errors"])
    assert isinstance(body["message"], str) and body["message"]
    return body


def credits(client: TestClient, auth: dict[str, str]) -> int:
    value: int = client.get("/account", headers=auth).json()["credits"]
    return value


def mask_b64(size: tuple[int, int], box: tuple[int, int, int, int]) -> str:
    """A white-on-black PNG mask (white = repaint), base64 as v1's ``mask`` wants."""
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def pixels(image: Image.Image) -> bytes:
    return image.convert("RGB").tobytes()
