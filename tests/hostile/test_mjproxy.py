"""Hostile input in the midjourney-proxy dialect, by the house's rules: a JSON boolean is never
a number, a notifyHook host that cannot be encoded is refused at submission, and an image that
declares a huge canvas (``base64Array``, ``maskBase64``) is refused by its declared size. Each
refusal is the dialect's code 4, costs nothing and creates no job."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.hostile.bombs import png_bomb
from tests.hostile.steps import Account
from tests.hostile.test_idna import BAD_HOSTS, GOOD_HOSTS
from tests.hostile.test_image_bombs import BUDGET_MB, SIDE, _measure
from tests.mjproxy.steps import button, finished, press, press_modal, refused, submit


@pytest.fixture
def secret(api_key: str) -> dict[str, str]:
    return {"mj-api-secret": api_key}


@pytest.fixture
def grid(client: TestClient, secret: dict[str, str]) -> dict[str, Any]:
    return finished(client, secret, submit(client, secret, prompt="a fox in the snow"))


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_never_an_index_or_a_task_id(client, secret, api_key, grid, value):
    account = Account(client, api_key)
    body = {"taskId": grid["id"], "action": "UPSCALE", "index": value}
    assert "index" in refused(client.post("/mj/submit/change", json=body, headers=secret))
    listed = client.post("/mj/task/list-by-condition", json={"ids": [value]}, headers=secret)
    assert "ids.0" in refused(listed, code=4, status=400)  # never a 200 that is not an array
    account.unchanged()


def test_an_unencodable_notify_hook_host_is_refused_at_submission(client, secret, api_key, grid):
    account = Account(client, api_key)
    for host in BAD_HOSTS.values():
        url = f"https://{host}/hook"
        for path, body in [
            ("/mj/submit/imagine", {"prompt": "a fox", "notifyHook": url}),
            (
                "/mj/submit/action",
                {"taskId": grid["id"], "customId": button(grid, "U1"), "notifyHook": url},
            ),
        ]:
            description = refused(client.post(path, json=body, headers=secret))
            assert description.startswith("notifyHook") and "host" in description.lower(), (
                description
            )
    account.unchanged()


def test_an_encodable_international_host_is_accepted(client, secret):
    for host in GOOD_HOSTS.values():
        submit(client, secret, prompt="a fox", notifyHook=f"https://{host}/hook")


def test_an_image_bomb_in_base64_array_is_refused_naming_its_size(client, secret, api_key):
    account = Account(client, api_key)
    bomb = "data:image/png;base64," + base64.b64encode(png_bomb(SIDE, SIDE)).decode()
    for path, body in [
        ("/mj/submit/imagine", {"prompt": "a fox", "base64Array": [bomb]}),
        ("/mj/submit/blend", {"base64Array": [bomb, bomb]}),
    ]:
        description = refused(client.post(path, json=body, headers=secret))
        assert description.startswith("base64Array[0]") and f"{SIDE}x{SIDE}" in description
    account.unchanged()


def test_a_mask_bomb_is_refused_naming_its_size_and_the_task_stays_modal(
    client, secret, api_key, grid
):
    upsample = finished(client, secret, press(client, secret, grid, "U4"))
    modal_id = press_modal(client, secret, upsample, "Vary (Region)")
    account = Account(client, api_key)
    body = {"taskId": modal_id, "maskBase64": base64.b64encode(png_bomb(SIDE, SIDE)).decode()}
    description = refused(client.post("/mj/submit/modal", json=body, headers=secret))
    assert description.startswith("maskBase64") and f"{SIDE}x{SIDE}" in description
    fetched = client.get(f"/mj/task/{modal_id}/fetch", headers=secret).json()
    assert fetched["status"] == "MODAL"
    account.unchanged()


def test_a_canvas_mask_bomb_is_refused_without_decoding_it():
    """The canvas path (another size of the picture's shape is allowed) still judges the
    declared size first: a square bomb over a square picture costs no memory."""
    result = _measure(
        """
        import base64
        from selfjourney.domain.errors import InvalidMask
        from selfjourney.imaging.masks import decode_mask
        text = base64.b64encode(png_bomb(SIDE, SIDE)).decode()
        before = peak_mb()
        try:
            decode_mask(text, (1024, 1024), canvas=True)
            message = None
        except InvalidMask as exc:
            message = exc.message
        print(json.dumps({"grew": peak_mb() - before, "message": message}))
        """
    )
    assert result["message"] and f"{SIDE}x{SIDE}" in result["message"], result
    assert result["grew"] < BUDGET_MB, f"refusing the mask cost {result['grew']:.0f} MB"
