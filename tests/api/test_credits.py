"""Credits under pressure: parallel submissions, refunds, retries (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from selfjourney.embedded import build_embedded
from selfjourney.store import Store
from tests.conftest import make_settings
from tests.fakes import FailingEngine, FlakyEngine
from tests.flows import balance, drain, generate
from tests.server import ThreadedServer

PARALLEL = 24
AFFORDABLE = 5


def test_parallel_submissions_accept_exactly_what_the_balance_affords(
    tmp_path: Path, database_url: str
):
    settings = make_settings(tmp_path / "data", database_url=database_url)
    runtime = build_embedded(settings)
    account, raw = runtime.store.accounts.create("race", credits=16 * AFFORDABLE + 7)
    body = {"model": "midjourney", "prompt": "race"}

    with ThreadedServer(runtime.app()) as server:

        def submit(_: int) -> int:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                return http.post(
                    "/v2/images/generate", json=body, headers={"X-API-Key": raw}
                ).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            codes = list(pool.map(submit, range(PARALLEL)))

    assert codes.count(202) == AFFORDABLE
    assert codes.count(402) == PARALLEL - AFFORDABLE
    store = Store.connect(database_url)  # the server closed its own on shutdown
    try:
        assert store.accounts.get(account.id).credits == 7
        ledger = store.accounts.ledger(account.id)
        assert sum(entry.delta for entry in ledger) == 7
        assert all(entry.balance_after >= 0 for entry in ledger)
        assert len(store.jobs.page(account.id, 100).jobs) == AFFORDABLE
    finally:
        store.close()


def test_a_failed_job_is_refunded_exactly_once(tmp_path: Path, database_url: str):
    settings = make_settings(tmp_path / "data", database_url=database_url)
    runtime = build_embedded(settings, engine=FailingEngine())
    account, raw = runtime.store.accounts.create("t", credits=50)
    headers = {"X-API-Key": raw}
    with TestClient(runtime.app()) as client:
        job_id = generate(client, headers)
        drain(client)
        job = runtime.store.jobs.get(job_id)
        assert job is not None and job.status.value == "FAILED"
        assert runtime.store.jobs.fail(job, []) is False  # a second failure moves nothing
        assert balance(client, headers) == 50
        reasons = [(e.reason, e.delta) for e in runtime.store.accounts.ledger(account.id)]
    assert reasons == [("grant", 50), ("charge", -16), ("refund", 16)]


def test_an_engine_retry_reruns_the_job_under_the_same_id(tmp_path: Path):
    settings = make_settings(tmp_path / "flaky")
    engine = FlakyEngine(failures=2)
    runtime = build_embedded(settings, engine=engine)
    _, raw = runtime.store.accounts.create("t", credits=50)
    headers = {"X-API-Key": raw}
    with TestClient(runtime.app()) as client:
        job_id = generate(client, headers)
        assert runtime.queue.drain() == 3  # a retry with no delay is queued again at once
        job = runtime.store.jobs.get(job_id)
        assert job is not None and job.status.value == "COMPLETED" and job.attempt == 3
        assert balance(client, headers) == 34
    assert engine.calls == 3


def test_an_engine_that_keeps_asking_for_retries_fails_with_a_refund(tmp_path: Path):
    settings = make_settings(tmp_path / "data")
    runtime = build_embedded(settings, engine=FlakyEngine(failures=10))
    _, raw = runtime.store.accounts.create("t", credits=50)
    headers = {"X-API-Key": raw}
    with TestClient(runtime.app()) as client:
        job_id = generate(client, headers)
        while runtime.queue.drain():
            pass
        job = client.get(f"/v2/jobs/{job_id}", headers=headers).json()
        assert job["status"] == "FAILED" and "after 3 attempts" in job["error"]
        assert balance(client, headers) == 50
