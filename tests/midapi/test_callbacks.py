"""callBackUrl: midapi's own body, success and failure, retried on midapi's schedule."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from selfjourney.dialects import midapi
from selfjourney.embedded import build_embedded
from tests.conftest import make_settings
from tests.fakes import FailingEngine
from tests.midapi.steps import bearer, drain, record, submit, urls
from tests.receiver import Reply, WebhookReceiver

FAST = (0.05, 0.1)


def _settle(client: TestClient) -> None:
    assert client.app.state.process.workers.dispatcher.wait_idle(15)  # type: ignore[attr-defined]


def test_a_finished_task_calls_back_once_with_flat_urls(client, auth, receiver: WebhookReceiver):
    task_id = submit(client, auth, prompt="a fox", callBackUrl=receiver.url)
    drain(client)
    [hook] = receiver.wait_for(1)
    data = record(client, auth, task_id)
    assert hook.json == {
        "code": 200,
        "msg": "success",
        "data": {
            "taskId": task_id,
            "promptJson": data["paramJson"],
            "resultUrls": urls(data),
            "successFlag": 1,
            "resultInfoJson": data["resultInfoJson"],
        },
    }
    assert hook.headers["x-webhook-event"] == "completed"
    assert json.loads(hook.json["data"]["promptJson"])["callBackUrl"] == receiver.url
    _settle(client)
    assert len(receiver.requests) == 1  # no progress callbacks, no repeats


def test_upscale_and_vary_call_back_too(client, auth, receiver: WebhookReceiver):
    grid = submit(client, auth, prompt="owls")
    drain(client)
    upscale = submit(
        client, auth, "/mj/generateUpscale", taskId=grid, imageIndex=0, callBackUrl=receiver.url
    )
    vary = submit(
        client, auth, "/mj/generateVary", taskId=grid, imageIndex=0, callBackUrl=receiver.url
    )
    drain(client)
    hooks = {h.json["data"]["taskId"]: h.json for h in receiver.wait_for(2)}
    assert len(hooks[upscale]["data"]["resultUrls"]) == 1
    assert len(hooks[vary]["data"]["resultUrls"]) == 4
    assert all(body["code"] == 200 for body in hooks.values())


def test_a_failed_task_calls_back_with_500_and_the_reason(
    tmp_path: Path, receiver: WebhookReceiver
):
    settings = make_settings(tmp_path / "data")
    runtime = build_embedded(settings, engine=FailingEngine())
    _, key = runtime.store.accounts.create("t", credits=100)
    with TestClient(runtime.app()) as client:
        task_id = submit(client, bearer(key), callBackUrl=receiver.url)
        drain(client)
        [hook] = receiver.wait_for(1)
    assert hook.headers["x-webhook-event"] == "failed"
    assert hook.json["code"] == 500
    assert hook.json["msg"] == "Image generation failed: CUDA out of memory"
    data = hook.json["data"]
    assert data["taskId"] == task_id and data["resultUrls"] == []
    assert data["successFlag"] == 3 and data["resultInfoJson"] is None
    assert json.loads(data["promptJson"])["prompt"] == "a red fox in the snow"


def test_a_bad_reference_calls_back_a_failure(client, auth, receiver: WebhookReceiver):
    submit(
        client,
        auth,
        taskType="mj_img2img",
        fileUrls=[receiver.url + "/nope.png"],
        callBackUrl=receiver.url,
    )
    receiver.reply_with([Reply(404, headers=(("connection", "close"),))])  # the reference
    drain(client)
    hooks = receiver.wait_for(2)
    body = hooks[1].json
    assert body["code"] == 500 and body["msg"].startswith(
        "Image generation failed: Reference image"
    )


def test_callbacks_retry_on_midapi_backoff_then_stop(tmp_path: Path, receiver: WebhookReceiver):
    settings = make_settings(tmp_path / "data", midapi_callback_backoff=FAST)
    runtime = build_embedded(settings)
    _, key = runtime.store.accounts.create("t", credits=100)
    receiver.reply_with([500, 503, 502, 500])
    with TestClient(runtime.app()) as client:
        submit(client, bearer(key), callBackUrl=receiver.url)
        drain(client)
        receiver.wait_for(3)
        _settle(client)
    hooks = receiver.requests
    assert len(hooks) == len(FAST) + 1 == 3
    assert (
        len({h.body for h in hooks}) == 1 and len({h.headers["x-webhook-id"] for h in hooks}) == 1
    )


def test_a_retry_that_succeeds_ends_the_deliveries(tmp_path: Path, receiver: WebhookReceiver):
    settings = make_settings(tmp_path / "data", midapi_callback_backoff=FAST)
    runtime = build_embedded(settings)
    _, key = runtime.store.accounts.create("t", credits=100)
    receiver.reply_with([500, 200])
    with TestClient(runtime.app()) as client:
        submit(client, bearer(key), callBackUrl=receiver.url)
        drain(client)
        receiver.wait_for(2)
        _settle(client)
    assert len(receiver.requests) == 2


def test_the_style_follows_the_settings(tmp_path: Path):
    settings = make_settings(tmp_path / "data", midapi_callback_timeout=3.0)
    style = midapi.webhook_style(settings)
    assert style.events == frozenset({"completed", "failed"})
    assert style.timeout == 3.0 and style.backoff == (60.0, 300.0, 900.0)
    assert style.max_attempts == 4
