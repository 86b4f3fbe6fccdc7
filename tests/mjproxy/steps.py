"""Client-side steps the midjourney-proxy tests repeat, as new-api and the Dooy web client take
them: submit, read the envelope, fetch or batch-poll, press a button by its customId."""

from __future__ import annotations

import base64
import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from tests.flows import download, drain
from tests.hostile.steps import balance

__all__ = ["balance", "download", "drain"]

ENVELOPE = {"code", "description", "result", "properties"}

#: new-api's ``dto.MidjourneyDto`` fields and the Go types it decodes them into: a JSON value
#: of another type fails the whole poll batch (``null`` is fine in Go for every one of them).
GO_STRINGS = (
    "id",
    "action",
    "customId",
    "botType",
    "prompt",
    "promptEn",
    "description",
    "state",
    "imageUrl",
    "videoUrl",
    "status",
    "progress",
    "failReason",
    "maskBase64",
)
GO_INT64S = ("submitTime", "startTime", "finishTime")


def envelope(response: Any, status: int = 200) -> dict[str, Any]:
    """A submit answer: JSON, the four keys, ``result`` a string or null (Go: ``Result string``)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == ENVELOPE, body
    assert body["result"] is None or isinstance(body["result"], str), body
    assert isinstance(body["properties"], dict) and isinstance(body["code"], int), body
    if body["code"] != 21:
        assert "confirm" not in body["description"].lower(), body
    return body


def refused(response: Any, code: int = 4, status: int = 200) -> str:
    """A refusal: the code asked, ``result`` null; its description."""
    body = envelope(response, status)
    assert body["code"] == code and body["result"] is None, body
    description: str = body["description"]
    assert description, body
    return description


def submit(
    client: TestClient,
    headers: dict[str, str],
    path: str = "/mj/submit/imagine",
    **body: Any,
) -> str:
    """A submit that creates a task (code 1 or 22); its id."""
    if path == "/mj/submit/imagine":
        body = {"prompt": "a red fox in the snow", **body}
    answer = envelope(client.post(path, json=body, headers=headers))
    assert answer["code"] in (1, 22), answer
    task_id: str = answer["result"]
    return task_id


def fetch(
    client: TestClient, headers: dict[str, str], task_id: str, prefix: str = "/mj"
) -> dict[str, Any]:
    response = client.get(f"{prefix}/task/{task_id}/fetch", headers=headers)
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    check_go_types(task)
    return task


def finished(client: TestClient, headers: dict[str, str], task_id: str) -> dict[str, Any]:
    """Run the queue; the task must have succeeded."""
    drain(client)
    task = fetch(client, headers, task_id)
    assert (task["status"], task["progress"]) == ("SUCCESS", "100%"), task
    return task


def listed(
    client: TestClient, headers: dict[str, str], ids: list[Any], prefix: str = "/mj"
) -> list[dict[str, Any]]:
    """``list-by-condition`` as new-api's poller calls it: HTTP 200 and an array, or nothing."""
    response = client.post(f"{prefix}/task/list-by-condition", json={"ids": ids}, headers=headers)
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    assert isinstance(tasks, list), tasks
    for task in tasks:
        check_go_types(task)
    return tasks


def check_go_types(task: dict[str, Any]) -> None:
    """Every field new-api's Go struct decodes has a JSON type Go accepts there."""
    for name in GO_STRINGS:
        assert task.get(name) is None or isinstance(task[name], str), (name, task.get(name))
    for name in GO_INT64S:
        value = task.get(name)
        assert value is None or (isinstance(value, int) and not isinstance(value, bool)), name
    assert task["submitTime"] > 10**12  # milliseconds, not seconds
    assert task.get("videoUrls") is None or isinstance(task["videoUrls"], list)
    properties = task["properties"]
    assert isinstance(properties, dict)
    assert isinstance(properties["finalPrompt"], str)
    assert isinstance(properties["finalZhPrompt"], str)
    assert isinstance(task["buttons"], list)
    assert task["progress"].endswith("%") and task["progress"][:-1].isdigit()


def button(task: dict[str, Any], name: str) -> str:
    """The customId of the button labelled (or, for emoji-only buttons, showing) ``name``."""
    for shown in task["buttons"]:
        if name in (shown["label"], shown["emoji"]):
            custom_id: str = shown["customId"]
            return custom_id
    raise AssertionError(
        f"no button {name!r} on {[b['label'] or b['emoji'] for b in task['buttons']]}"
    )


def press(
    client: TestClient, headers: dict[str, str], task: dict[str, Any], name: str, **body: Any
) -> str:
    """Press a button by its customId, as the web client does; the new task's id."""
    payload = {"taskId": task["id"], "customId": button(task, name), **body}
    return submit(client, headers, "/mj/submit/action", **payload)


def press_modal(
    client: TestClient, headers: dict[str, str], task: dict[str, Any], name: str
) -> str:
    """A Vary Region or Custom Zoom press: code 21 with the MODAL task's id."""
    payload = {"taskId": task["id"], "customId": button(task, name)}
    answer = envelope(client.post("/mj/submit/action", json=payload, headers=headers))
    assert answer["code"] == 21 and answer["description"] == "Waiting for window confirm", answer
    assert answer["properties"]["remix"] is True
    assert "status" not in answer["properties"] and "imageUrl" not in answer["properties"]
    modal_id: str = answer["result"]
    return modal_id


def image(client: TestClient, url: str) -> Image.Image:
    return download(client, url).convert("RGB")


def data_url(picture: Image.Image, kind: str = "PNG") -> str:
    out = io.BytesIO()
    picture.save(out, format=kind)
    mime = "jpeg" if kind == "JPEG" else kind.lower()
    return f"data:image/{mime};base64,{base64.b64encode(out.getvalue()).decode()}"


def credits(client: TestClient, headers: dict[str, str]) -> int:
    """The key's balance (read through Apiframe v2: the same account)."""
    return balance(client, headers.get("mj-api-secret") or headers["Authorization"].split()[-1])
