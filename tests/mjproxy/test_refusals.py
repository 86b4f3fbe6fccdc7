"""Every refusal: the right HTTP status and code, a description that says why, and nothing
stored or charged (spec §1.2-§1.5, §4, §6.4, §10)."""

from __future__ import annotations

import uuid

from PIL import Image

from selfjourney.domain.costs import DEFAULT_COSTS
from tests.hostile.steps import Account
from tests.mjproxy.steps import (
    ENVELOPE,
    button,
    data_url,
    envelope,
    fetch,
    finished,
    image,
    press_modal,
    refused,
    submit,
)

UNKNOWN = str(uuid.uuid4())


def test_a_missing_or_wrong_key_is_a_401_envelope(client, api_key, runtime):
    account = Account(client, api_key)
    revoked_account, revoked = runtime.store.accounts.create("revoked", credits=100)
    runtime.store.accounts.set_active(revoked_account.id, False)
    calls: list[tuple[str, str, dict[str, object] | None]] = [
        ("POST", "/mj/submit/imagine", {"prompt": "a fox"}),
        ("POST", "/mj-turbo/mj/submit/action", {"taskId": "x", "customId": "y"}),
        ("GET", f"/mj/task/{UNKNOWN}/fetch", None),
        ("POST", "/mj/task/list-by-condition", {"ids": []}),
        ("POST", "/mj/submit/describe", {}),
        ("POST", f"/mj/task/{UNKNOWN}/cancel", None),
    ]
    for method, path, body in calls:
        for headers in (
            {},
            {"mj-api-secret": "afk_not-a-key"},
            {"Authorization": "Bearer afk_not-a-key"},
            {"mj-api-secret": revoked},
        ):
            response = client.request(method, path, json=body, headers=headers)
            assert "mj-api-secret" in refused(response, code=4, status=401), (path, headers)
    account.unchanged()


def test_the_key_may_come_in_any_of_the_three_headers(client, api_key, grid):
    """The format's own header wins over Authorization (a client sending both sends one key)."""
    for headers in (
        {"Mj-Api-Secret": api_key},
        {"Authorization": f"Bearer {api_key}"},
        {"Authorization": api_key},
        {"mj-api-secret": api_key, "Authorization": "Bearer afk_something-else"},
    ):
        assert fetch(client, headers, grid["id"])["id"] == grid["id"]


def test_unknown_and_foreign_ids_are_404_code_3(client, secret, runtime, grid):
    _, other = runtime.store.accounts.create("other", credits=100)
    theirs = {"mj-api-secret": other}
    for task_id in (UNKNOWN, grid["id"]):
        headers = secret if task_id == UNKNOWN else theirs
        for method, path, body in [
            ("GET", f"/mj/task/{task_id}/fetch", None),
            ("GET", f"/mj/task/{task_id}/image-seed", None),
            ("POST", "/mj/submit/action", {"taskId": task_id, "customId": button(grid, "U1")}),
            ("POST", "/mj/submit/modal", {"taskId": task_id, "prompt": "x --zoom 2"}),
            ("POST", "/mj/submit/change", {"taskId": task_id, "action": "UPSCALE", "index": 1}),
            ("POST", "/mj/submit/simple-change", {"content": f"{task_id} V1"}),
        ]:
            response = client.request(method, path, json=body, headers=headers)
            assert refused(response, code=3, status=404) == f"task not found: {task_id}"
    assert (
        client.post("/mj/task/list-by-condition", json={"ids": [grid["id"]]}, headers=theirs).json()
        == []
    )


def test_bad_custom_ids_are_code_4_and_cost_nothing(client, secret, api_key, grid, upsample):
    account = Account(client, api_key)
    g, u = grid["id"], upsample["id"]
    cases = [
        (g, f"MJ::JOB::upsample::5::{g}", "not a button"),  # U5
        (g, f"MJ::JOB::upsample::1::{u}", f"belongs to task {u}"),  # another task's button
        (g, f"MJ::BOOKMARK::{g}", "not a button"),  # Discord only
        (u, f"MJ::JOB::animate_high::1::{u}::SOLO", "not a button"),  # video
        (u, f"MJ::Job::PicReader::1::{u}", "not a button"),  # describe
        (g, f"MJ::JOB::pan_left::1::{g}::SOLO", "does not offer pan"),  # a pan on a grid
        (u, f"MJ::JOB::upsample::1::{u}", "does not offer U"),  # U on an upsample
        (u, f"MJ::Outpaint::100::1::{u}::SOLO", "does not offer Make Square"),  # square already
        (g, "", "customId"),
        ("", button(grid, "U1"), "taskId"),
    ]
    for task_id, custom_id, reason in cases:
        body = {"taskId": task_id, "customId": custom_id}
        description = refused(client.post("/mj/submit/action", json=body, headers=secret))
        assert reason in description, (custom_id, description)
    account.unchanged()


def test_a_vary_region_grid_offers_no_reroll_and_refuses_one(client, secret, api_key, upsample):
    modal_id = press_modal(client, secret, upsample, "Vary (Region)")
    mask = data_url(Image.new("L", image(client, upsample["imageUrl"]).size, 255))
    submit(client, secret, "/mj/submit/modal", taskId=modal_id, maskBase64=mask)
    inpainted = finished(client, secret, modal_id)
    assert not any("reroll" in b["customId"] for b in inpainted["buttons"])
    account = Account(client, api_key)
    body = {"taskId": inpainted["id"], "customId": f"MJ::JOB::reroll::0::{inpainted['id']}::SOLO"}
    assert "does not offer reroll" in refused(
        client.post("/mj/submit/action", json=body, headers=secret)
    )
    body = {"taskId": inpainted["id"], "action": "REROLL"}
    assert "does not offer reroll" in refused(
        client.post("/mj/submit/change", json=body, headers=secret)
    )
    account.unchanged()


def test_buttons_of_a_task_that_has_not_succeeded_are_code_4(client, secret, api_key):
    task_id = submit(client, secret, prompt="a fox")  # queued, not rendered
    account = Account(client, api_key)
    body = {"taskId": task_id, "customId": f"MJ::JOB::upsample::1::{task_id}"}
    description = refused(client.post("/mj/submit/action", json=body, headers=secret))
    assert "not SUCCESS (QUEUED)" in description
    account.unchanged()


def test_legacy_change_refusals(client, secret, api_key, grid, upsample):
    account = Account(client, api_key)
    for body, reason in [
        ({"taskId": upsample["id"], "action": "UPSCALE", "index": 1}, "does not offer U"),
        ({"taskId": grid["id"], "action": "UPSCALE"}, "index (1-4) is required"),
        ({"taskId": grid["id"], "action": "UPSCALE", "index": 5}, "index"),
        ({"taskId": grid["id"], "action": "ZOOM", "index": 1}, "action"),
    ]:
        assert reason in refused(client.post("/mj/submit/change", json=body, headers=secret))
    for content in (f"{grid['id']} U5", f"{grid['id']}U1", grid["id"], f"{grid['id']} X1"):
        body = {"content": content}
        assert "content" in refused(
            client.post("/mj/submit/simple-change", json=body, headers=secret)
        )
    account.unchanged()


def test_submit_refusals_are_code_4_and_cost_nothing(client, secret, api_key):
    account = Account(client, api_key)
    for body, reason in [
        ({}, "prompt is required"),
        ({"prompt": "   "}, "prompt is required"),
        ({"prompt": "a fox --chaos 500"}, "--chaos"),
        ({"prompt": "a fox --ar 9:1"}, "3:1"),
        ({"prompt": "a fox", "state": "s" * 256}, "state"),
        ({"prompt": "a fox", "notifyHook": "ftp://example.com/x"}, "notifyHook"),
        ({"prompt": "a fox", "base64Array": ["not base64!"]}, "base64Array[0]"),
        ({"prompt": "a fox", "base64Array": ["data:image/png;base64,aGVsbG8="]}, "base64Array[0]"),
        ({"prompt": "a fox", "base64Array": ["aGVsbG8="] * 6}, "base64Array"),
        ({"prompt": 12}, "prompt"),
    ]:
        description = refused(client.post("/mj/submit/imagine", json=body, headers=secret))
        assert reason in description, (body, description)
    for body, reason in [
        ({"base64Array": ["aGVsbG8="]}, "base64Array"),
        ({"base64Array": ["aGVsbG8=", "aGVsbG8="], "dimensions": "ROUND"}, "dimensions"),
    ]:
        assert reason in refused(client.post("/mj/submit/blend", json=body, headers=secret))
    account.unchanged()


def test_a_body_that_is_not_a_json_object_is_a_400_envelope(client, secret, api_key):
    account = Account(client, api_key)
    for content in (b"not json", b"[1, 2]", b'"a string"', b""):
        response = client.post(
            "/mj/submit/imagine",
            content=content,
            headers={**secret, "Content-Type": "application/json"},
        )
        assert "JSON object" in refused(response, code=4, status=400)
    account.unchanged()


def test_insufficient_credits_is_code_4_with_the_amounts(client, runtime):
    account, key = runtime.store.accounts.create("poor", credits=DEFAULT_COSTS["upsample"] + 1)
    poor = {"mj-api-secret": key}
    imagine = client.post("/mj/submit/imagine", json={"prompt": "a fox"}, headers=poor)
    assert refused(imagine) == "insufficient credits: this costs 16, the key has 5"
    assert envelope(imagine)["properties"] == {"creditsRequired": 16, "creditsAvailable": 5}
    assert runtime.store.accounts.get(account.id).credits == 5


def test_features_a_self_hosted_server_cannot_offer_are_refused_plainly(client, secret, api_key):
    account = Account(client, api_key)
    for path in (
        "/mj/submit/describe",
        "/mj/submit/shorten",
        "/mj/submit/edits",
        "/mj/submit/edit",
        "/mj/submit/retexture",
        "/mj/submit/video",
        "/mj/submit/upload-discord-images",
        "/mj/insight-face/swap",
        "/mj-relax/mj/submit/describe",
    ):
        description = refused(client.post(path, json={"base64": "x"}, headers=secret))
        assert "is not available on this self-hosted server" in description, path
    account.unchanged()


def test_the_word_confirm_is_only_ever_in_a_code_21(client, secret, grid):
    """The web client opens its modal on any description containing "confirm"."""
    body = {"taskId": grid["id"], "customId": f"MJ::confirm::{grid['id']}"}
    description = refused(client.post("/mj/submit/action", json=body, headers=secret))
    assert "c*nfirm" in description


def test_a_modal_for_a_task_that_is_not_waiting_is_code_4(client, secret, grid):
    body = {"taskId": grid["id"], "prompt": "x --zoom 2"}
    description = refused(client.post("/mj/submit/modal", json=body, headers=secret))
    assert description == f"task {grid['id']} is not waiting for a modal (status SUCCESS)"


def test_every_answer_is_json(client, secret):
    response = client.get("/mj/task/list", headers=secret)
    assert response.status_code == 200 and response.json() == []
    missing = client.get("/mj/nothing-here", headers=secret)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
    other_prefix = client.post("/mj-slow/mj/submit/imagine", json={"prompt": "a"}, headers=secret)
    assert other_prefix.status_code == 404 and other_prefix.json()
    assert set(client.post("/mj/submit/imagine", headers=secret).json()) == ENVELOPE
