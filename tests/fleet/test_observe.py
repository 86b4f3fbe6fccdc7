"""A fleet API process (``selfjourney serve`` with the Celery queue) as an operator sees it:
ready when database, storage and broker answer, fleet metrics from the shared database, JSON
log lines."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.fleet.harness import Fleet
from tests.live import free_port, wait_job

GRID = {"model": "midjourney", "prompt": "a heron at dawn"}


def test_an_api_process_is_ready_counts_the_queue_and_logs_json(
    tmp_path: Path, fleet_database: str, redis_broker: str
) -> None:
    env = {"SELFJOURNEY_WORKERS": "0", "SELFJOURNEY_LOG_FORMAT": "json"}
    with Fleet(tmp_path, fleet_database, redis_broker, env=env) as fleet:
        key = fleet.create_key(credits=100)
        api = fleet.api()
        with api.client(key) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "storage": "ok", "broker": "ok"}
            sent = client.post("/v2/images/generate", json=GRID, headers={"X-Request-ID": "f-1"})
            assert sent.status_code == 202, sent.text
            text = client.get("/metrics").text  # no worker runs: the job stays QUEUED
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }
        assert samples[("selfjourney_queue_depth", ())] == 1
        queued = (("action", "imagine"), ("model", "default"), ("status", "QUEUED"))
        assert samples[("selfjourney_jobs", queued)] == 1
        assert samples[("selfjourney_credits_spent", ())] == 16
        logged = [json.loads(line) for line in api.log().splitlines() if line.startswith("{")]
        assert any(line["logger"].startswith("uvicorn") for line in logged), api.log()
        assert any(line.get("request_id") == "f-1" for line in logged), api.log()


def test_a_worker_serves_its_render_metrics_and_readiness_names_a_dead_broker(
    tmp_path: Path, fleet_database: str, redis_broker: str
) -> None:
    with Fleet(tmp_path, fleet_database, redis_broker) as fleet:
        key = fleet.create_key(credits=100)
        api = fleet.api()
        port = free_port()
        fleet.worker("--metrics-port", str(port))
        with api.client(key) as client:
            job_id = client.post("/v2/images/generate", json=GRID).json()["jobId"]
            wait_job(client, job_id, {"COMPLETED"}, timeout=60, server=api)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        renders = [
            sample
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "selfjourney_render_seconds_count"
        ]
        assert [sample.value for sample in renders] == [1.0], text

        dead = {"SELFJOURNEY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
        with fleet.api(env=dead).client(key) as client:
            ready = client.get("/readyz")
        assert ready.status_code == 503, ready.text
        checks = ready.json()["checks"]
        assert checks["database"] == "ok" and checks["broker"].startswith("error"), checks
