"""What operators watch, over HTTP: /healthz, /readyz, /metrics, and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from selfjourney.api import create_app
from selfjourney.embedded import build_embedded
from selfjourney.observe.logs import configure_logging
from selfjourney.observe.metrics import FleetCollector, serve_metrics
from selfjourney.storage.local import LocalStorage
from selfjourney.store import Database, Store
from selfjourney.store.database import make_engine
from tests.conftest import make_settings
from tests.flows import act, drain, generate
from tests.receiver import WebhookReceiver

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(client: TestClient) -> Samples:
    """Every sample of ``GET /metrics``, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _dead_store(tmp_path: Path) -> Store:
    """A store whose database cannot be opened (its folder does not exist)."""
    return Store(Database(make_engine(f"sqlite:///{tmp_path / 'gone' / 'db.sqlite'}")))


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_storage(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


def test_readyz_names_the_storage_when_its_folder_is_gone(tmp_path):
    files = tmp_path / "files"
    runtime = build_embedded(
        make_settings(tmp_path / "data"), storage=LocalStorage(files, "http://testserver")
    )
    client = TestClient(runtime.app())
    shutil.rmtree(files)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    storage = body["checks"]["storage"]
    assert storage.startswith("error: ") and "No such file or directory" in storage


def test_readyz_names_the_database_when_it_does_not_answer(runtime, tmp_path):
    dead = _dead_store(tmp_path)
    app = create_app(
        service=runtime.service, probes={"database": dead.ping, "storage": runtime.storage.check}
    )
    body = TestClient(app).get("/readyz").json()
    assert body["status"] == "unavailable" and body["checks"]["storage"] == "ok"
    assert (
        body["checks"]["database"].startswith("error: ")
        and "unable to open" in (body["checks"]["database"])
    )


def test_a_hung_probe_is_reported_after_its_timeout(runtime):
    release = threading.Event()

    def hang() -> None:
        release.wait()

    app = create_app(service=runtime.service, probes={"broker": hang}, probe_timeout=0.1)
    client = TestClient(app)
    try:
        first = client.get("/readyz")
        again = client.get("/readyz")  # still hanging: no second thread is started
    finally:
        release.set()
    assert first.status_code == 503
    assert first.json()["checks"] == {"broker": "error: no answer within 0.1 s"}
    assert again.json()["checks"]["broker"] in (
        "error: the previous check has not answered yet",
        "error: no answer within 0.1 s",
    )


def test_probes_and_metrics_stay_out_of_the_openapi_document(runtime):
    """They are the process's, not the API's (the document itself is built by the contract
    tests; building it here would cost seconds)."""
    app = create_app(service=runtime.service)
    routes = {getattr(route, "path", None): route for route in app.routes}
    for path in ("/healthz", "/readyz", "/metrics"):
        assert routes[path].include_in_schema is False  # type: ignore[attr-defined]


def test_metrics_count_jobs_credits_renders_requests_and_webhooks(client, headers, runtime):
    before = _samples(client)
    with WebhookReceiver() as receiver:
        receiver.reply_with([204, 410])  # the grid's webhook is delivered, the upsample's fails
        grid = generate(client, headers, webhookUrl=receiver.url)
        assert _value(_samples(client), "selfjourney_queue_depth") == 1
        drain(client)
        receiver.wait_for(1)
        assert runtime.workers.dispatcher.wait_idle(10)
        upsample = act(client, headers, grid, action="upsample", index=1, webhookUrl=receiver.url)
        receiver.wait_for(2)
        assert runtime.workers.dispatcher.wait_idle(10)
    client.get(f"/v2/jobs/{upsample}", headers=headers)
    after = _samples(client)

    for action in ("imagine", "upsample"):
        labels = {"status": "COMPLETED", "action": action, "model": "default"}
        assert _value(after, "selfjourney_jobs", **labels) == 1
        rendered = {"action": action, "model": "default"}
        counted = "selfjourney_render_seconds_count"
        assert _value(after, counted, **rendered) == _value(before, counted, **rendered) + 1
    assert _value(after, "selfjourney_queue_depth") == 0

    account = runtime.store.accounts.authenticate(headers["X-API-Key"])
    ledger = runtime.store.accounts.ledger(account.id)
    spent = -sum(entry.delta for entry in ledger if entry.reason in ("charge", "refund"))
    assert spent > 0 and _value(after, "selfjourney_credits_spent") == spent
    assert _value(after, "selfjourney_credits_granted") == 1000

    hooks = "selfjourney_webhook_deliveries"
    assert _value(after, hooks, outcome="delivered", event="completed") == 1
    assert _value(after, hooks, outcome="failed", event="completed") == 1

    job_reads = {"method": "GET", "route": "/v2/jobs/{id}", "status": "200"}
    total = "selfjourney_http_requests_total"
    assert _value(after, total, **job_reads) == _value(before, total, **job_reads) + 1
    assert not any(
        name == total and dict(labels)["route"].endswith(upsample) for name, labels in after
    )
    timed = {"method": "POST", "route": "/v2/images/generate"}
    count = "selfjourney_http_request_duration_seconds_count"
    assert _value(after, count, **timed) == _value(before, count, **timed) + 1
    assert _value(after, "selfjourney_fleet_metrics_up") == 1


def test_metrics_still_answer_when_the_database_does_not(runtime, tmp_path):
    app = create_app(service=runtime.service, metrics=FleetCollector(_dead_store(tmp_path)))
    samples = _samples(TestClient(app))
    assert _value(samples, "selfjourney_fleet_metrics_up") == 0
    assert not any(name == "selfjourney_jobs" for name, _ in samples)


def test_a_worker_process_serves_its_own_metrics():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = serve_metrics(port, addr="127.0.0.1")
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        server.shutdown()
        server.server_close()
    assert "selfjourney_render_seconds" in text and "selfjourney_jobs" not in text


@pytest.fixture
def json_logs(tmp_path) -> Iterator[io.StringIO]:
    """Log lines of the whole process, as ``serve`` writes them with log_format=json."""
    root = logging.getLogger()
    level, stream = root.level, io.StringIO()
    handler = configure_logging(make_settings(tmp_path, log_format="json"), stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_json_logs_carry_the_request_and_job_ids(client, headers, json_logs):
    grid = generate(client, headers)
    drain(client)  # runs in this thread: no request, a job
    answer = client.post(
        "/v2/images/midjourney/action",
        json={"parentJobId": grid, "action": "upsample", "index": 3},
        headers={**headers, "X-Request-ID": "trace-obs-1"},
    )  # an upsample runs inline, in the request
    assert answer.headers["x-request-id"] == "trace-obs-1"
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    completed = {
        line["job_id"]: line
        for line in lines
        if line["logger"] == "selfjourney.worker.worker" and "completed" in line["message"]
    }
    assert "request_id" not in completed[grid]
    upsample = answer.json()["jobId"]
    assert completed[upsample]["request_id"] == "trace-obs-1"
    assert completed[upsample]["level"] == "info" and upsample in completed[upsample]["message"]


def test_an_unsafe_request_id_is_replaced(client):
    for sent in ("has space", "x" * 129, 'quote"d', "new\u2028line"):
        echoed = client.get("/healthz", headers={"X-Request-ID": sent.encode()}).headers
        assert echoed["x-request-id"] != sent and len(echoed["x-request-id"]) == 32
