"""The fleet end to end: API processes and Celery workers as real processes over PostgreSQL and
a real broker, driven over HTTP as clients drive them, then checked in the database."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import redis
from PIL import Image
from sqlalchemy import create_engine, text

from tests.fleet.harness import Fleet
from tests.live import LiveServer, wait_job
from tests.receiver import WebhookReceiver
from tests.s3 import CREDENTIALS, Bucket

GRID = {"model": "midjourney", "prompt": "a fox in the snow --ar 1:1"}


def _decoded(client: httpx.Client, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def _rows(database_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())
    finally:
        engine.dispose()


def _until(check: Callable[[], Any], timeout: float, what: str, fleet: Fleet) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout}s\n{fleet.logs()}")


def _in_bucket(bucket: Bucket) -> dict[str, str]:
    """A fleet's settings for pictures in ``bucket`` (moto), credentials from the environment."""
    settings = {
        f"SELFJOURNEY_{name.upper()}": str(value) for name, value in bucket.settings().items()
    }
    return {**settings, **CREDENTIALS}


def test_every_dialect_through_two_api_processes_and_two_workers(
    tmp_path: Path, fleet_database: str, redis_broker: str, s3_bucket: Bucket
) -> None:
    with Fleet(tmp_path, fleet_database, redis_broker, env=_in_bucket(s3_bucket)) as fleet:
        key = fleet.create_key(credits=1000)
        first, second = fleet.api(), fleet.api()
        fleet.worker()
        fleet.worker()
        one, two = first.client(key), second.client(key)

        # Apiframe v2: submit on one process, poll and act on the other.
        job_id = one.post("/v2/images/generate", json=GRID).json()["jobId"]
        job = wait_job(two, job_id, {"COMPLETED"}, timeout=60, server=second)
        assert [_decoded(two, url).size for url in job["result"]["images"]] == [(1024, 1024)] * 4
        upsample = two.post(
            "/v2/images/midjourney/action",
            json={"parentJobId": job_id, "action": "upsample", "index": 2},
        ).json()["jobId"]
        upsampled = wait_job(one, upsample, {"COMPLETED"}, timeout=60, server=first)
        assert _decoded(one, upsampled["result"]["images"][0]).size == (1024, 1024)

        # Apiframe v1.
        v1 = {"Authorization": key}
        task = two.post("/imagine", json={"prompt": "a lighthouse"}, headers=v1).json()["task_id"]
        fetched = _until(
            lambda: (
                body
                if (body := one.post("/fetch", json={"task_id": task}, headers=v1).json())["status"]
                == "completed"
                else None
            ),
            60,
            "v1 task finished",
            fleet,
        )
        assert len(fetched["image_urls"]) == 4
        assert _decoded(two, fetched["image_urls"][0]).size == (1024, 1024)

        # midapi.
        bearer = {"Authorization": f"Bearer {key}"}
        body = {"taskType": "mj_txt2img", "prompt": "a harbour at dawn"}
        task = one.post("/api/v1/mj/generate", json=body, headers=bearer).json()["data"]["taskId"]

        def midapi_done() -> Any:
            record = two.get(
                "/api/v1/mj/record-info", params={"taskId": task}, headers=bearer
            ).json()["data"]
            return record if record["successFlag"] == 1 else None

        record = _until(midapi_done, 60, "midapi task succeeded", fleet)
        urls = [item["resultUrl"] for item in record["resultInfoJson"]["resultUrls"]]
        assert [_decoded(one, url).size for url in urls] == [(1024, 1024)] * 4

        # midjourney-proxy.
        secret = {"mj-api-secret": key}
        task = two.post("/mj/submit/imagine", json={"prompt": "a kite"}, headers=secret).json()
        assert task["code"] == 1, task

        def proxy_done() -> Any:
            found = one.get(f"/mj/task/{task['result']}/fetch", headers=secret).json()
            return found if found["status"] == "SUCCESS" else None

        found = _until(proxy_done, 60, "midjourney-proxy task succeeded", fleet)
        assert _decoded(two, found["imageUrl"]).size == (2048, 2048)  # the grid

        # OpenAI Images: synchronous, the job rendered by a worker in another process.
        openai = {"Authorization": f"Bearer {key}"}
        answer = one.post(
            "/v1/images/generations",
            json={"prompt": "a red kite", "n": 2, "size": "1024x1024", "response_format": "url"},
            headers=openai,
            timeout=90,
        )
        assert answer.status_code == 200, answer.text
        assert [_decoded(two, item["url"]).size for item in answer.json()["data"]] == [
            (1024, 1024)
        ] * 2
        one.close()
        two.close()
        # Every picture came from the bucket (presigned URLs); none from a data dir.
        assert all(url.startswith(s3_bucket.endpoint) for url in job["result"]["images"])
        assert len(s3_bucket.keys()) >= 4 * 5 + 1
        assert not (fleet.data_dir / "images").exists()


def test_a_killed_worker_job_completes_once_on_the_other(
    tmp_path: Path, fleet_database: str, broker: str
) -> None:
    slow = {"SELFJOURNEY_RENDER_DELAY": "6", "SELFJOURNEY_LEASE_SECONDS": "4"}
    with Fleet(tmp_path, fleet_database, broker, env=slow) as fleet:
        key = fleet.create_key(credits=100)
        api = fleet.api()
        workers = [fleet.worker(), fleet.worker()]
        with api.client(key) as client:
            job_id = client.post("/v2/images/generate", json=GRID).json()["jobId"]
            wait_job(client, job_id, {"PROCESSING"}, timeout=30, server=api)
            (doomed,) = [worker for worker in workers if "] received" in worker.log()]
            (survivor,) = [worker for worker in workers if worker is not doomed]
            doomed.kill()  # mid-render: no shutdown code runs, the message is unacknowledged
            job = wait_job(client, job_id, {"COMPLETED"}, timeout=60, server=api)
            for url in job["result"]["images"]:
                assert _decoded(client, url).size == (1024, 1024)
            credits = client.get("/v2/me").json()["team"]["credits"]
        assert credits == 100 - job["creditCost"]
        ((attempt, status),) = _rows(
            fleet_database, "SELECT attempt, status FROM jobs WHERE id = :id", id=job_id
        )
        assert (attempt, status) == (2, "COMPLETED")
        charges = _rows(fleet_database, "SELECT reason FROM ledger WHERE job_id = :id", id=job_id)
        assert [reason for (reason,) in charges] == ["charge"]
        assert "lost its worker; queued again" in survivor.log()


def test_an_api_process_killed_under_load_loses_no_accepted_job(
    tmp_path: Path, fleet_database: str, redis_broker: str
) -> None:
    resend = {"SELFJOURNEY_RESEND_QUEUED_AFTER": "10"}
    with Fleet(tmp_path, fleet_database, redis_broker, env=resend) as fleet:
        key = fleet.create_key(credits=10_000)
        doomed = fleet.api()
        fleet.worker("--concurrency", "2")
        accepted: list[str] = []
        refused: list[str] = []
        stop = threading.Event()

        def submit(server: LiveServer) -> None:
            with server.client(key) as client:
                while not stop.is_set():
                    try:
                        response = client.post("/v2/images/generate", json=GRID)
                    except httpx.TransportError as exc:
                        refused.append(repr(exc))
                        continue
                    if response.status_code == 202:
                        accepted.append(response.json()["jobId"])

        load = [threading.Thread(target=submit, args=(doomed,)) for _ in range(4)]
        for thread in load:
            thread.start()
        _until(lambda: len(accepted) >= 10, 30, "10 jobs accepted", fleet)
        doomed.kill()
        stop.set()
        for thread in load:
            thread.join(10)
        assert refused, "the load was still running when the process died"
        restarted = fleet.api()
        with restarted.client(key) as client:
            for job_id in accepted:
                wait_job(client, job_id, {"COMPLETED"}, timeout=90, server=restarted)
        # A job the dead process stored but never sent to the broker (nor answered for) is sent
        # again by the watchdog after SELFJOURNEY_RESEND_QUEUED_AFTER, and renders like any other.
        _until(
            lambda: _rows(fleet_database, "SELECT DISTINCT status FROM jobs") == [("COMPLETED",)],
            40,
            "every stored job completed",
            fleet,
        )


def test_webhooks_reach_a_receiver_that_was_down_through_a_worker_restart(
    tmp_path: Path, fleet_database: str, redis_broker: str
) -> None:
    down = 3
    with WebhookReceiver() as receiver, Fleet(tmp_path, fleet_database, redis_broker) as fleet:
        receiver.reply_with([503] * down)  # then 204, as if it came back up
        key = fleet.create_key(credits=100)
        api = fleet.api()
        worker = fleet.worker()
        with api.client(key) as client:
            job_id = client.post(
                "/v2/images/generate", json={**GRID, "webhookUrl": receiver.url}
            ).json()["jobId"]
            wait_job(client, job_id, {"COMPLETED"}, timeout=60, server=api)
            receiver.wait_for(1, timeout=30)
            worker.stop()  # retries are rows: a restart keeps them
            fleet.worker()

            def delivered() -> list[Any]:
                return [
                    hook
                    for hook in receiver.requests[down:]
                    if hook.headers["x-webhook-event"] == "completed"
                ]

            _until(delivered, 60, "the completed event delivered", fleet)
            job = client.get(f"/v2/jobs/{job_id}").json()
        hooks = [r for r in receiver.requests if r.headers["x-webhook-event"] == "completed"]
        assert len(hooks) == down + 1, hooks  # delivered once, after three refusals
        assert len({hook.headers["x-webhook-id"] for hook in hooks}) == 1
        assert [int(hook.headers["x-webhook-attempt"]) for hook in hooks] == [1, 2, 3, 4]
        assert _wait_webhook_status(api, key, job_id) == "delivered", job


def _wait_webhook_status(api: LiveServer, key: str, job_id: str) -> str:
    """The job's webhookStatus once the delivering worker has written it."""
    deadline = time.monotonic() + 10
    status = ""
    with api.client(key) as client:
        while time.monotonic() < deadline:
            status = client.get(f"/v2/jobs/{job_id}").json()["webhookStatus"]
            if status == "delivered":
                break
            time.sleep(0.1)
    return status


def test_parallel_submissions_through_two_api_processes_spend_exactly_the_balance(
    tmp_path: Path, fleet_database: str, redis_broker: str
) -> None:
    with Fleet(tmp_path, fleet_database, redis_broker, env={"SELFJOURNEY_WORKERS": "0"}) as fleet:
        cost = 16
        key = fleet.create_key(credits=cost * 7 + 5)  # seven grids and change
        apis = [fleet.api(), fleet.api()]
        answers: list[int] = []
        lock = threading.Lock()

        def submit(server: LiveServer) -> None:
            with server.client(key) as client:
                for _ in range(5):
                    status = client.post("/v2/images/generate", json=GRID).status_code
                    with lock:
                        answers.append(status)

        threads = [threading.Thread(target=submit, args=(apis[n % 2],)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(set(answers)) == [202, 402], answers
        assert answers.count(202) == 7
        ((credits,),) = _rows(fleet_database, "SELECT credits FROM accounts")
        assert credits == 5
        ((jobs,),) = _rows(fleet_database, "SELECT count(*) FROM jobs")
        assert jobs == 7


def test_cancel_a_queued_and_a_rendering_job(
    tmp_path: Path, fleet_database: str, redis_broker: str
) -> None:
    slow = {"SELFJOURNEY_RENDER_DELAY": "30"}
    with Fleet(tmp_path, fleet_database, redis_broker, env=slow) as fleet:
        key = fleet.create_key(credits=100)
        api = fleet.api()
        worker = fleet.worker()  # one render slot: the second job waits
        with api.client(key) as client:
            rendering = client.post("/v2/images/generate", json=GRID).json()["jobId"]
            wait_job(client, rendering, {"PROCESSING"}, timeout=30, server=api)
            queued = client.post("/v2/images/generate", json=GRID).json()["jobId"]
            assert client.get("/v2/me").json()["team"]["credits"] == 100 - 32

            answer = client.post(f"/v2/jobs/{queued}/cancel")
            assert answer.status_code == 200 and answer.json()["status"] == "CANCELLED"
            started = time.monotonic()
            answer = client.post(f"/v2/jobs/{rendering}/cancel")
            assert answer.status_code == 200 and answer.json()["status"] == "CANCELLED"
            assert client.get("/v2/me").json()["team"]["credits"] == 100

            # The worker lets go at its next progress step (every 7.5 s here) and is free.
            follow = client.post("/v2/images/generate", json=GRID).json()["jobId"]
            wait_job(client, follow, {"PROCESSING"}, timeout=30, server=api)
            assert time.monotonic() - started < 20
            assert client.post(f"/v2/jobs/{queued}/cancel").status_code == 409
        rows = _rows(
            fleet_database, "SELECT status, started_at FROM jobs WHERE id = :id", id=queued
        )
        assert rows == [("CANCELLED", None)]  # a cancelled queued job never starts
        assert "Traceback" not in worker.log()


def test_rate_limit_and_cap_hold_across_two_api_processes_and_two_workers(
    tmp_path: Path, fleet_database: str, redis_broker: str
) -> None:
    fair = {
        "SELFJOURNEY_RATE_LIMIT_PER_MINUTE": "12",
        "SELFJOURNEY_MAX_CONCURRENT_JOBS_PER_KEY": "1",
        "SELFJOURNEY_RENDER_DELAY": "1",
    }
    with Fleet(tmp_path, fleet_database, redis_broker, env=fair) as fleet:
        key = fleet.create_key(credits=1000)
        apis = [fleet.api(), fleet.api()]
        fleet.worker()
        fleet.worker()
        clients = [api.client(key) for api in apis]
        jobs = [
            clients[n % 2].post("/v2/images/generate", json=GRID).json()["jobId"] for n in range(3)
        ]
        busiest = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = _rows(fleet_database, "SELECT status FROM jobs")
            busiest = max(busiest, sum(status == "PROCESSING" for (status,) in rows))
            if all(status == "COMPLETED" for (status,) in rows):
                break
            time.sleep(0.05)
        assert [status for (status,) in rows] == ["COMPLETED"] * 3, fleet.logs()
        assert busiest == 1  # two free workers, one key capped at one render

        # 3 submissions spent 3 of the 12 requests a minute; 9 more pass, on either process.
        answers = [clients[n % 2].get(f"/v2/jobs/{jobs[0]}") for n in range(10)]
        assert [answer.status_code for answer in answers] == [200] * 9 + [429]
        refused = answers[-1]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "rate limit" in refused.json()["error"].lower()
        for client in clients:
            client.close()


def test_each_model_renders_on_the_workers_that_serve_it(
    tmp_path: Path, fleet_database: str, redis_broker: str
) -> None:
    table = (
        '{"v7": {"engine": "procedural"}, "niji6": {"engine": "procedural", "aliases": ["niji"]}}'
    )
    with Fleet(tmp_path, fleet_database, redis_broker, env={"SELFJOURNEY_MODELS": table}) as fleet:
        key = fleet.create_key(credits=1000)
        api = fleet.api()
        niji = fleet.worker("--models", "niji6")
        with api.client(key) as client:
            first = client.post("/v2/images/generate", json={**GRID, "prompt": "a fox --niji 6"})
            second = client.post("/v2/images/generate", json={**GRID, "prompt": "a fox --v 7"})
            niji_job, v7_job = first.json()["jobId"], second.json()["jobId"]
            done = wait_job(client, niji_job, {"COMPLETED"}, timeout=60, server=api)
            assert done["selfjourney"]["model"] == "niji6"
            time.sleep(1)  # the v7 job waits for a worker that serves v7
            assert client.get(f"/v2/jobs/{v7_job}").json()["status"] == "QUEUED"
            # ... its message kept in v7's queue, declared when the API process started (a
            # Redis broker drops a message sent to a queue that no one has declared).
            assert redis.Redis.from_url(redis_broker).llen("selfjourney.v7") == 1
            v7 = fleet.worker("--models", "v7")
            done = wait_job(client, v7_job, {"COMPLETED"}, timeout=60, server=api)
            assert done["selfjourney"]["model"] == "v7"
            unknown = client.post("/v2/images/generate", json={**GRID, "prompt": "a fox --v 5"})
            assert unknown.status_code == 400, unknown.text
            assert "unknown model 'v5'" in str(unknown.json()["details"])
        assert niji_job in niji.log() and v7_job not in niji.log()
        assert v7_job in v7.log() and niji_job not in v7.log()
