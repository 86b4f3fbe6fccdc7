"""Webhooks to a real local receiver: payloads, signatures, retries, SSRF refusals."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from selfjourney.embedded import build_embedded
from selfjourney.store.deliveries import NewDelivery
from tests.conftest import make_settings
from tests.fakes import FailingEngine, SlowEngine
from tests.flows import balance, drain, generate
from tests.receiver import Reply, WebhookReceiver


def _expected_signature(api_key: str, body: bytes) -> str:
    secret = hashlib.sha256(api_key.encode()).digest()
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _settle(client: TestClient) -> None:
    assert client.app.state.process.workers.dispatcher.wait_idle(15)  # type: ignore[attr-defined]


@pytest.fixture
def receiver():
    with WebhookReceiver() as r:
        yield r


def test_completed_webhook_is_signed_with_the_submitting_key(client, headers, receiver):
    job_id = generate(client, headers, webhookUrl=receiver.url)
    assert client.get(f"/v2/jobs/{job_id}", headers=headers).json()["webhookStatus"] == "pending"
    drain(client)
    [hook] = receiver.wait_for(1)
    assert hook.headers["x-webhook-event"] == "completed"
    assert hook.headers["content-type"] == "application/json"
    assert hook.headers["x-webhook-signature"] == _expected_signature(
        headers["X-API-Key"], hook.body
    )
    assert hook.headers["x-webhook-id"]
    body = hook.json
    job = client.get(f"/v2/jobs/{job_id}", headers=headers).json()
    assert (
        body["event"] == "completed" and body["jobId"] == job_id and body["status"] == "COMPLETED"
    )
    assert body["progress"] == 100 and body["model"] == "midjourney" and body["creditCost"] == 16
    assert body["result"] == job["result"] and body["completedAt"] == job["completedAt"]
    _settle(client)
    assert client.get(f"/v2/jobs/{job_id}", headers=headers).json()["webhookStatus"] == "delivered"


def test_no_webhook_means_no_webhook_status(client, headers):
    job_id = generate(client, headers)
    drain(client)
    assert client.get(f"/v2/jobs/{job_id}", headers=headers).json()["webhookStatus"] is None


def test_only_subscribed_events_are_sent(client, headers, receiver):
    generate(client, headers, webhookUrl=receiver.url, webhookEvents=["failed"])
    drain(client)
    _settle(client)
    assert receiver.requests == []


def test_retries_keep_the_delivery_id_and_body_until_delivered(client, headers, receiver):
    receiver.reply_with([500, 503, 429])
    job_id = generate(client, headers, webhookUrl=receiver.url)
    drain(client)
    receiver.wait_for(3)
    _settle(client)
    hooks = receiver.requests  # the test settings allow 3 attempts: all three fail
    assert [h.headers["x-webhook-attempt"] for h in hooks] == ["1", "2", "3"]
    assert len({h.headers["x-webhook-id"] for h in hooks}) == 1
    assert len({h.body for h in hooks}) == 1
    assert client.get(f"/v2/jobs/{job_id}", headers=headers).json()["webhookStatus"] == "failed"


def test_a_retry_that_succeeds_marks_the_job_delivered(client, headers, receiver):
    receiver.reply_with([502])
    job_id = generate(client, headers, webhookUrl=receiver.url)
    drain(client)
    receiver.wait_for(2)
    _settle(client)
    assert client.get(f"/v2/jobs/{job_id}", headers=headers).json()["webhookStatus"] == "delivered"
    deliveries = client.app.state.process.store.deliveries.for_job(job_id)
    assert [(d.status, d.attempts, d.last_status_code) for d in deliveries] == [
        ("delivered", 2, 204)
    ]


def test_a_4xx_answer_is_not_retried(client, headers, receiver):
    receiver.reply_with([410])
    job_id = generate(client, headers, webhookUrl=receiver.url)
    drain(client)
    receiver.wait_for(1)
    _settle(client)
    assert len(receiver.requests) == 1
    assert client.get(f"/v2/jobs/{job_id}", headers=headers).json()["webhookStatus"] == "failed"


def test_progress_events_rise_then_completed(tmp_path: Path, receiver):
    settings = make_settings(tmp_path / "data")
    runtime = build_embedded(settings, engine=SlowEngine())
    _, raw = runtime.store.accounts.create("t", credits=100)
    headers = {"X-API-Key": raw}
    with TestClient(runtime.app()) as client:
        generate(client, headers, webhookUrl=receiver.url, webhookEvents=["progress", "completed"])
        drain(client)
        _settle(client)
    events = [(h.json["event"], h.json["status"], h.json["progress"]) for h in receiver.requests]
    progress = [p for event, status, p in events if event == "progress"]
    assert len(progress) >= 2 and progress == sorted(progress) and 0 < progress[0] < 100
    assert all(status == "PROCESSING" for event, status, _ in events if event == "progress")
    assert events[-1] == ("completed", "COMPLETED", 100)
    assert all(
        h.headers["x-webhook-signature"] == _expected_signature(raw, h.body)
        for h in receiver.requests
    )


def test_failed_job_sends_failed_event_and_is_refunded(tmp_path: Path, receiver):
    settings = make_settings(tmp_path / "data")
    runtime = build_embedded(settings, engine=FailingEngine())
    _, raw = runtime.store.accounts.create("t", credits=100)
    headers = {"X-API-Key": raw}
    with TestClient(runtime.app()) as client:
        job_id = generate(client, headers, webhookUrl=receiver.url)
        assert balance(client, headers) == 84
        drain(client)
        [hook] = receiver.wait_for(1)
        _settle(client)
        job = client.get(f"/v2/jobs/{job_id}", headers=headers).json()
        assert balance(client, headers) == 100
    assert hook.json["event"] == "failed" and hook.json["status"] == "FAILED"
    assert hook.json["error"] == "Image generation failed: CUDA out of memory"
    assert hook.json["creditCost"] == 0
    assert job["status"] == "FAILED" and job["creditCost"] == 0 and job["result"] is None
    assert (
        job["error"] == hook.json["error"]
        and job["completedAt"]
        and job["webhookStatus"] == "delivered"
    )


def test_a_slow_receiver_does_not_hold_up_other_deliveries(client, headers):
    with WebhookReceiver(path="/slow") as slow, WebhookReceiver(path="/fast") as fast:
        slow.reply_with([Reply(204, delay=1.5)])
        generate(client, headers, webhookUrl=slow.url)
        drain(client)
        slow.wait_for(1)  # the slow delivery is now in flight
        generate(client, headers, webhookUrl=fast.url)
        drain(client)
        fast.wait_for(1, timeout=1.0)  # arrives while the slow one is still hanging
        _settle(client)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "ftp://example.com/hook",
    ],
)
def test_unsafe_webhook_urls_are_refused_at_submission(tmp_path: Path, url):
    settings = make_settings(tmp_path / "data", allow_private_urls=False)
    runtime = build_embedded(settings)
    _, raw = runtime.store.accounts.create("t", credits=100)
    headers = {"X-API-Key": raw}
    with TestClient(runtime.app()) as client:
        response = client.post(
            "/v2/images/generate",
            json={"model": "midjourney", "prompt": "x", "webhookUrl": url},
            headers=headers,
        )
        assert response.status_code == 400, response.text
        assert "webhookUrl" in response.json()["details"]
        assert balance(client, headers) == 100


def test_a_public_https_webhook_url_is_accepted(tmp_path: Path):
    settings = make_settings(tmp_path / "data", allow_private_urls=False)
    runtime = build_embedded(settings)
    _, raw = runtime.store.accounts.create("t", credits=100)
    with TestClient(runtime.app()) as client:
        response = client.post(
            "/v2/images/generate",
            json={
                "model": "midjourney",
                "prompt": "x",
                "webhookUrl": "https://hooks.example.com/x",
            },
            headers={"X-API-Key": raw},
        )
        assert response.status_code == 202


def test_a_name_resolving_to_loopback_is_refused_at_delivery(tmp_path: Path, receiver):
    settings = make_settings(tmp_path / "data", allow_private_urls=False, webhook_max_attempts=1)
    runtime = build_embedded(settings)
    _, raw = runtime.store.accounts.create("t", credits=100)
    headers = {"X-API-Key": raw}
    # Skip the submission check, as a DNS answer that changes after submission would: the
    # row names a host that resolves to 127.0.0.1 at connect time, where it must be refused.
    with TestClient(runtime.app()) as client:
        job_id = generate(client, headers)
        drain(client)
        port = receiver.url.split(":")[2].split("/")[0]
        runtime.store.deliveries.add(
            [NewDelivery(job_id, "completed", f"https://localhost:{port}/hook", b"{}", {}, 1)]
        )
        runtime.workers.dispatcher.notify()
        assert runtime.workers.dispatcher.wait_idle(10)
        [delivery] = runtime.store.deliveries.for_job(job_id)
    assert delivery.status == "failed" and "refused" in (delivery.last_error or "")
    assert receiver.requests == []
