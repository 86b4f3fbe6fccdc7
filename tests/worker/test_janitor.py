"""The janitor: hung renders fail with a refund; images past retention are purged."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from selfjourney.embedded import build_embedded
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.flows import balance, finished, generate
from tests.receiver import WebhookReceiver


def test_a_render_that_hangs_is_failed_and_refunded(tmp_path: Path):
    clock = FakeClock()
    settings = make_settings(tmp_path / "data", job_timeout=600)
    runtime = build_embedded(settings, clock=clock)
    _, raw = runtime.store.accounts.create("t", credits=100)
    headers = {"X-API-Key": raw}
    with WebhookReceiver() as receiver, TestClient(runtime.app()) as client:
        job_id = generate(client, headers, webhookUrl=receiver.url)
        claimed = runtime.store.jobs.claim(job_id, lease=30)  # a worker took it... and hung
        assert claimed is not None
        clock.advance(seconds=599)
        runtime.workers.janitor.sweep()
        assert client.get(f"/v2/jobs/{job_id}", headers=headers).json()["status"] == "PROCESSING"
        clock.advance(seconds=2)
        runtime.workers.janitor.sweep()
        job = client.get(f"/v2/jobs/{job_id}", headers=headers).json()
        assert job["status"] == "FAILED" and job["error"] == "Image generation failed: timed out"
        assert job["creditCost"] == 0 and balance(client, headers) == 100
        [hook] = receiver.wait_for(1)
        assert hook.json["event"] == "failed"
        # the hung worker wakes up late: it may not complete a job that already ended
        runtime.workers.worker.run(job_id)
        assert client.get(f"/v2/jobs/{job_id}", headers=headers).json()["status"] == "FAILED"


def test_images_past_retention_are_purged_and_the_job_reads_expired(tmp_path: Path):
    clock = FakeClock()
    settings = make_settings(tmp_path / "data", retention_days=90)
    runtime = build_embedded(settings, clock=clock)
    _, raw = runtime.store.accounts.create("t", credits=100)
    headers = {"X-API-Key": raw}
    with TestClient(runtime.app()) as client:
        old = finished(client, headers, generate(client, headers))
        clock.advance(days=60)
        young = finished(client, headers, generate(client, headers))
        clock.advance(days=31)
        runtime.workers.janitor.sweep()
        expired = client.get(f"/v2/jobs/{old['id']}", headers=headers).json()
        assert expired["expired"] is True and expired["result"] is None
        assert expired["status"] == "COMPLETED"
        assert (
            client.get(old["result"]["images"][0].removeprefix("http://testserver")).status_code
            == 404
        )
        kept = client.get(f"/v2/jobs/{young['id']}", headers=headers).json()
        assert kept["expired"] is False and kept["result"] == young["result"]
        listed = client.get("/v2/jobs", headers=headers).json()["jobs"]
        assert {job["id"]: job["expired"] for job in listed} == {
            old["id"]: True,
            young["id"]: False,
        }
        response = client.post(
            "/v2/images/midjourney/action",
            json={"parentJobId": old["id"], "action": "upsample", "index": 1},
            headers=headers,
        )
        assert response.status_code == 409 and "no longer stored" in response.json()["error"]
