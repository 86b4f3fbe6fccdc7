"""v1 webhooks to a real receiver: the task object as the body, the secret echoed back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from selfjourney.embedded import build_embedded
from tests.apiframe_v1.flows import credits, fetch, refused, submit
from tests.conftest import make_settings
from tests.fakes import FailingEngine, SlowEngine
from tests.flows import drain
from tests.receiver import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


def _settle(client: TestClient) -> None:
    assert client.app.state.process.workers.dispatcher.wait_idle(15)  # type: ignore[attr-defined]


def test_completed_webhook_is_the_task_with_the_secret_header(client, auth, receiver):
    hook = {"webhook_url": receiver.url, "webhook_secret": "s3cret-Value_1"}
    task_id = submit(client, auth, "/imagine", prompt="a fox", **hook)
    drain(client)
    [delivery] = receiver.wait_for(1)
    assert delivery.headers["x-webhook-secret"] == "s3cret-Value_1"
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["x-webhook-event"] == "completed"
    assert delivery.json == fetch(client, auth, task_id)
    assert delivery.json["status"] == "completed" and len(delivery.json["image_urls"]) == 4
    _settle(client)
    job = client.get(f"/v2/jobs/{task_id}", headers={"X-API-Key": auth["Authorization"]}).json()
    assert job["webhookStatus"] == "delivered"
    assert job["input"] == {"prompt": "a fox", "webhook_url": receiver.url}  # secret kept out

    hook["webhook_secret"] = "for-the-upscale"
    up = submit(client, auth, "/upscale-1x", parent_task_id=task_id, index="4", **hook)
    delivery = receiver.wait_for(2)[1]  # an upscale completes at once
    assert delivery.headers["x-webhook-secret"] == "for-the-upscale"
    assert delivery.json["task_id"] == up and delivery.json["task_type"] == "upscale#4"
    assert delivery.json == fetch(client, auth, up)


def test_a_failed_task_sends_failed_with_the_reason(tmp_path: Path, receiver):
    settings = make_settings(tmp_path / "data")
    runtime = build_embedded(settings, engine=FailingEngine())
    _, key = runtime.store.accounts.create("t", credits=100)
    auth = {"Authorization": key}
    with TestClient(runtime.app()) as client:
        hook = {"webhook_url": receiver.url, "webhook_secret": "x"}
        task_id = submit(client, auth, "/imagine", prompt="a fox", **hook)
        drain(client)
        [delivery] = receiver.wait_for(1)
        assert delivery.headers["x-webhook-event"] == "failed"
        assert delivery.headers["x-webhook-secret"] == "x"
        reason = delivery.json["message"]
        assert "CUDA out of memory" in reason
        assert delivery.json == {
            "task_id": task_id,
            "task_type": "imagine",
            "status": "failed",
            "percentage": "0",
            "message": reason,
            "error": reason,
        }
        assert credits(client, auth) == 100


def test_progress_is_never_sent_nor_a_secret_not_given(tmp_path: Path, receiver):
    settings = make_settings(tmp_path / "data")
    runtime = build_embedded(settings, engine=SlowEngine())
    _, key = runtime.store.accounts.create("t", credits=100)
    with TestClient(runtime.app()) as client:
        submit(client, {"Authorization": key}, "/imagine", prompt="a", webhook_url=receiver.url)
        drain(client)
        receiver.wait_for(1)
        _settle(client)
    [delivery] = receiver.requests
    assert delivery.headers["x-webhook-event"] == "completed"
    assert "x-webhook-secret" not in delivery.headers


def test_a_private_webhook_url_is_refused_when_policy_says_so(tmp_path: Path):
    settings = make_settings(tmp_path / "data", allow_private_urls=False)
    runtime = build_embedded(settings)
    _, key = runtime.store.accounts.create("t", credits=100)
    auth = {"Authorization": key}
    with TestClient(runtime.app()) as client:
        body = {"prompt": "a fox", "webhook_url": "https://127.0.0.1/hook"}
        response = client.post("/imagine", json=body, headers=auth)
        assert refused(response, 400, "INVALID_REQUEST")["errors"][0]["path"] == "webhook_url"
        assert credits(client, auth) == 100
