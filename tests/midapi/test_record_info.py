"""GET /api/v1/mj/record-info: shapes, successFlag transitions, cross-dialect reads."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from selfjourney.embedded import build_embedded
from tests.conftest import make_settings
from tests.fakes import FailingEngine
from tests.flows import act, generate
from tests.midapi.steps import bearer, call, drain, finished, record, refused, submit, urls

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FIELDS = {
    "taskId",
    "taskType",
    "paramJson",
    "completeTime",
    "resultInfoJson",
    "successFlag",
    "createTime",
    "errorCode",
    "errorMessage",
}


def test_a_finished_task_reads_like_the_vendor_example(client, auth):
    request = {
        "taskType": "mj_txt2img",
        "speed": "relaxed",
        "prompt": "a sci-fi fighter jet in a beautiful sky",
        "aspectRatio": "16:9",
        "version": "7",
        "stylization": 1,
        "weirdness": 1,
    }
    envelope = call(client, "/mj/generate", auth, request)
    task_id = envelope["data"]["taskId"]
    data = finished(client, auth, task_id)
    assert set(data) == FIELDS
    assert data["taskId"] == task_id and data["taskType"] == "mj_txt2img"
    assert data["paramJson"] == json.dumps(request, sort_keys=True, separators=(",", ":"))
    assert ISO.match(data["createTime"]) and ISO.match(data["completeTime"])
    assert data["completeTime"] >= data["createTime"]
    assert [set(item) for item in data["resultInfoJson"]["resultUrls"]] == [{"resultUrl"}] * 4
    assert all(u.startswith("http://testserver/cdn/images/") for u in urls(data))
    assert data["errorCode"] is None and data["errorMessage"] is None
    assert call(client, "/mj/record-info", auth, taskId=task_id)["msg"] == "success"


def test_success_flag_goes_from_0_to_1(client, auth, runtime):
    task_id = submit(client, auth)
    queued = record(client, auth, task_id)
    assert queued["successFlag"] == 0
    assert queued["resultInfoJson"] is None and queued["completeTime"] is None
    assert queued["errorCode"] is None and queued["errorMessage"] is None
    claimed = runtime.store.jobs.claim(task_id, lease=30)
    assert claimed is not None
    assert record(client, auth, task_id)["successFlag"] == 0  # PROCESSING
    runtime.workers.worker.run_claimed(*claimed)
    assert record(client, auth, task_id)["successFlag"] == 1


def test_a_failed_generation_is_3_with_the_reason(tmp_path: Path):
    settings = make_settings(tmp_path / "data")
    runtime = build_embedded(settings, engine=FailingEngine())
    _, key = runtime.store.accounts.create("t", credits=100)
    with TestClient(runtime.app()) as client:
        auth = bearer(key)
        task_id = submit(client, auth)
        drain(client)
        data = record(client, auth, task_id)
    assert data["successFlag"] == 3 and data["errorCode"] == 501
    assert data["errorMessage"] == "Image generation failed: CUDA out of memory"
    assert data["resultInfoJson"] is None and ISO.match(data["completeTime"])


def test_an_unknown_or_foreign_task_is_a_404_with_null_data(client, auth, runtime):
    code, msg = refused(client, "/mj/record-info", auth, taskId="2182668588ae82da0bc553c07c48ca38")
    assert (code, msg) == (404, "Task not found")
    task_id = submit(client, auth)
    _, other = runtime.store.accounts.create("other", credits=100)
    assert refused(client, "/mj/record-info", bearer(other), taskId=task_id)[0] == 404


def test_a_missing_task_id_is_a_422(client, auth):
    code, msg = refused(client, "/mj/record-info", auth)
    assert code == 422 and "taskId" in msg


def test_an_expired_task_keeps_its_flag_and_loses_its_urls(client, auth, runtime):
    task_id = submit(client, auth)
    finished(client, auth, task_id)
    runtime.store.jobs.mark_expired(task_id)
    data = record(client, auth, task_id)
    assert data["successFlag"] == 1 and data["resultInfoJson"] is None
    assert "expired" in data["errorMessage"]


def test_v2_jobs_read_through_record_info(client, headers, auth):
    grid = generate(client, headers, prompt="a v2 grid")
    drain(client)
    data = record(client, auth, grid)
    assert data["taskType"] == "mj_txt2img" and data["successFlag"] == 1
    assert json.loads(data["paramJson"]) == {"model": "midjourney", "prompt": "a v2 grid"}
    assert len(urls(data)) == 4
    upsample = act(client, headers, grid, action="upsample", index=2)
    pan = act(client, headers, upsample, action="pan", direction="left")
    variation = act(client, headers, grid, action="variation", index=1)
    drain(client)
    assert len(urls(record(client, auth, upsample))) == 1
    types = {t: record(client, auth, t)["taskType"] for t in (upsample, pan, variation)}
    assert types == {upsample: "mj_upscale", pan: "mj_pan", variation: "mj_vary"}


def test_midapi_tasks_read_through_v2(client, headers, auth):
    task_id = submit(client, auth, prompt="read me elsewhere", speed="fast")
    drain(client)
    job = client.get(f"/v2/jobs/{task_id}", headers=headers).json()
    assert job["status"] == "COMPLETED" and len(job["result"]["images"]) == 4
    assert job["input"] == {
        "taskType": "mj_txt2img",
        "prompt": "read me elsewhere",
        "speed": "fast",
    }
    upscale = submit(client, auth, "/mj/generateUpscale", taskId=task_id, imageIndex=3)
    assert client.get(f"/v2/jobs/{upscale}", headers=headers).json()["status"] == "COMPLETED"
