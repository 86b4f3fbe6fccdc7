"""Client-side steps the midapi tests repeat: submit, read a record, decode images."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from tests.flows import download, drain

__all__ = ["download", "drain"]


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def call(
    client: TestClient, path: str, auth: dict[str, str], body: Any = None, **params: Any
) -> dict[str, Any]:
    """One midapi call; midapi answers HTTP 200 whatever the outcome, so that is checked."""
    if body is None and path.endswith(("record-info", "credit")):
        response = client.get(f"/api/v1{path}", headers=auth, params=params)
    else:
        response = client.post(f"/api/v1{path}", headers=auth, json=body)
    assert response.status_code == 200, response.text
    envelope: dict[str, Any] = response.json()
    assert set(envelope) == {"code", "msg", "data"}, envelope
    return envelope


def refused(
    client: TestClient, path: str, auth: dict[str, str], body: Any = None, **params: Any
) -> tuple[int, str]:
    """A refusal: its code and msg (``data`` is always null)."""
    envelope = call(client, path, auth, body, **params)
    assert envelope["code"] != 200 and envelope["data"] is None, envelope
    return envelope["code"], envelope["msg"]


def submit(
    client: TestClient, auth: dict[str, str], path: str = "/mj/generate", **body: Any
) -> str:
    if path == "/mj/generate":
        body = {"taskType": "mj_txt2img", "prompt": "a red fox in the snow", **body}
    envelope = call(client, path, auth, body)
    assert envelope["code"] == 200 and envelope["msg"] == "success", envelope
    task_id: str = envelope["data"]["taskId"]
    return task_id


def record(client: TestClient, auth: dict[str, str], task_id: str) -> dict[str, Any]:
    envelope = call(client, "/mj/record-info", auth, taskId=task_id)
    assert envelope["code"] == 200, envelope
    data: dict[str, Any] = envelope["data"]
    return data


def finished(client: TestClient, auth: dict[str, str], task_id: str) -> dict[str, Any]:
    """Drain the queue; the task must have succeeded."""
    drain(client)
    data = record(client, auth, task_id)
    assert data["successFlag"] == 1, data
    return data


def urls(data: dict[str, Any]) -> list[str]:
    return [item["resultUrl"] for item in data["resultInfoJson"]["resultUrls"]]


def images(client: TestClient, data: dict[str, Any]) -> list[Image.Image]:
    return [download(client, url) for url in urls(data)]


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def credits(client: TestClient, auth: dict[str, str]) -> int:
    envelope = call(client, "/common/credit", auth)
    assert envelope["code"] == 200, envelope
    balance: int = envelope["data"]
    return balance
