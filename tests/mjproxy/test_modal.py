"""The two-step modal flow (spec §7): the 21 is free and makes a MODAL task; /submit/modal turns
it into the real job under the same id; every refusal leaves it MODAL; it lapses after an hour."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.embedded import build_embedded
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.hostile.steps import Account
from tests.mjproxy.fakes import TinyEngine
from tests.mjproxy.steps import (
    button,
    data_url,
    envelope,
    fetch,
    finished,
    image,
    listed,
    press,
    press_modal,
    refused,
    submit,
)


def _modal(client: TestClient, headers: dict[str, str], **body: object) -> dict[str, Any]:
    return envelope(client.post("/mj/submit/modal", json=body, headers=headers))


def test_a_modal_task_is_readable_and_takes_no_button(client, secret, api_key, upsample):
    account = Account(client, api_key)
    modal_id = press_modal(client, secret, upsample, "Vary (Region)")
    account.unchanged()  # no job, no charge
    [waiting] = listed(client, secret, [modal_id, upsample["id"]])[:1]
    assert (waiting["id"], waiting["status"], waiting["progress"]) == (modal_id, "MODAL", "0%")
    assert waiting["customId"] == button(upsample, "Vary (Region)")
    assert waiting["startTime"] is None and waiting["seed"] is None
    seed = client.get(f"/mj/task/{modal_id}/image-seed", headers=secret)
    assert "MODAL" in refused(seed)
    body = {"taskId": modal_id, "customId": f"MJ::JOB::upsample::1::{modal_id}"}
    assert "MODAL" in refused(client.post("/mj/submit/action", json=body, headers=secret))
    other = client.get(f"/v2/jobs/{modal_id}", headers={"X-API-Key": api_key})
    assert other.status_code == 404  # not a job until its modal comes


def test_every_refused_modal_leaves_the_task_modal_and_charges_nothing(
    client, secret, api_key, upsample
):
    size = image(client, upsample["imageUrl"]).size
    region = press_modal(client, secret, upsample, "Vary (Region)")
    zoom = press_modal(client, secret, upsample, "Custom Zoom")
    account = Account(client, api_key)
    black = data_url(Image.new("L", size, 0))
    for task_id, body, reason in [
        (region, {}, "maskBase64 is required"),
        (region, {"maskBase64": "%%%"}, "maskBase64 is not valid base64"),
        (region, {"maskBase64": black}, "no white area"),
        (
            region,
            {"maskBase64": data_url(Image.new("L", (64, 32), 255))},
            "64x32 but the picture is",
        ),
        (
            region,
            {"maskBase64": data_url(Image.new("L", size, 255)), "prompt": "x --chaos 500"},
            "--chaos",
        ),
        (zoom, {}, "--zoom"),
        (zoom, {"prompt": "a fox --zoom 3"}, "at most 2"),
        (zoom, {"prompt": "a fox --zoom 1"}, "--ar"),
        (zoom, {"prompt": "a fox --zoom big"}, "number"),
        (zoom, {"prompt": "a fox --zoom 1.5 --ar 5:1"}, "3:1"),
        (zoom, {"prompt": "a fox --zoom 1.5", "notifyHook": "ftp://x"}, "notifyHook"),
    ]:
        answer = _modal(client, secret, taskId=task_id, **body)
        assert answer["code"] == 4 and reason in answer["description"], (body, answer)
        assert fetch(client, secret, task_id)["status"] == "MODAL"
    account.unchanged()
    answer = _modal(client, secret, taskId=zoom, prompt="a fox --zoom 1 --ar 1:2")
    assert (answer["code"], answer["result"]) == (1, zoom)  # 1 with --ar: a change of shape
    again = _modal(client, secret, taskId=zoom, prompt="a fox --zoom 2")
    assert (
        again["code"] == 4 and "not waiting for a modal (status NOT_START)" in again["description"]
    )


def test_a_modal_without_credits_stays_modal(client, runtime, secret):
    grid = finished(client, secret, submit(client, secret))
    upsample = finished(client, secret, press(client, secret, grid, "U1"))
    modal_id = press_modal(client, secret, upsample, "Custom Zoom")
    account = runtime.store.accounts.authenticate(secret["mj-api-secret"])
    runtime.store.accounts.add_credits(
        account.id, -runtime.store.accounts.get(account.id).credits + 3
    )
    answer = _modal(client, secret, taskId=modal_id, prompt="a fox --zoom 2")
    assert (
        answer["code"] == 4 and answer["properties"]["creditsRequired"] == DEFAULT_COSTS["outpaint"]
    )
    assert fetch(client, secret, modal_id)["status"] == "MODAL"


def test_the_modal_state_and_hook_replace_the_presss(client, secret, upsample, receiver):
    payload = {
        "taskId": upsample["id"],
        "customId": button(upsample, "Custom Zoom"),
        "state": "from the press",
        "notifyHook": "http://127.0.0.1:9/never",
    }
    modal_id = envelope(client.post("/mj/submit/action", json=payload, headers=secret))["result"]
    assert fetch(client, secret, modal_id)["state"] == "from the press"
    _modal(
        client,
        secret,
        taskId=modal_id,
        prompt="a fox --zoom 2",
        state="from the modal",
        notifyHook=receiver.url,
    )
    task = finished(client, secret, modal_id)
    assert task["state"] == "from the modal"
    [hook] = receiver.wait_for(1)
    assert hook.json["id"] == modal_id and hook.json["status"] == "SUCCESS"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[TestClient, dict[str, str], object]]:
    settings = make_settings(tmp_path / "timed", upscaler="lanczos", retention_days=90)
    runtime = build_embedded(settings, engine=TinyEngine(), clock=clock)
    _, key = runtime.store.accounts.create("t", credits=1000)
    with TestClient(runtime.app()) as client:
        yield client, {"mj-api-secret": key}, runtime


def test_a_modal_never_submitted_fails_after_an_hour_then_is_forgotten(timed, clock):
    client, secret, runtime = timed
    grid = finished(client, secret, submit(client, secret))
    upsample = finished(client, secret, press(client, secret, grid, "U3"))
    modal_id = press_modal(client, secret, upsample, "Vary (Region)")
    submitted = fetch(client, secret, modal_id)["submitTime"]
    clock.advance(minutes=59)
    assert fetch(client, secret, modal_id)["status"] == "MODAL"
    clock.advance(minutes=1)
    lapsed = fetch(client, secret, modal_id)
    assert (lapsed["status"], lapsed["progress"]) == ("FAILURE", "100%")
    assert lapsed["failReason"] == "modal not submitted within 1 hour"
    assert lapsed["finishTime"] == submitted + 3_600_000
    mask = data_url(Image.new("L", image(client, upsample["imageUrl"]).size, 255))
    answer = _modal(client, secret, taskId=modal_id, maskBase64=mask)
    assert answer["code"] == 4 and "within 1 hour" in answer["description"]
    clock.advance(days=91)
    runtime.workers.janitor.sweep()  # kept as long as the images of its time
    response = client.get(f"/mj/task/{modal_id}/fetch", headers=secret)
    assert refused(response, code=3, status=404) == f"task not found: {modal_id}"
    expired = fetch(client, secret, grid["id"])  # its images purged by the same sweep
    assert (expired["status"], expired["imageUrl"], expired["imageUrls"]) == ("SUCCESS", None, None)
    assert expired["buttons"] == [] and expired["properties"]["expired"] is True
