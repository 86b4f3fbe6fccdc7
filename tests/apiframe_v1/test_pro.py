"""The Pro API (``/pro/midjourney/*``) end to end in-process: submit, drain, read, decode.

Same key, task object, error envelope and credits as the root v1 routes; every action takes
a grid and an ``index``. Upscales use Lanczos here (Real-ESRGAN on a CPU takes tens of
seconds; it is tested in tests/engines).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from selfjourney.config import Settings
from tests.apiframe_v1.flows import credits, done, fetch, refused, submit
from tests.conftest import make_settings
from tests.flows import download, drain
from tests.receiver import WebhookReceiver

UNKNOWN = "00000000-0000-4000-8000-000000000000"
PRO = "/pro/midjourney"
ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("/variations", {}),
    ("/vary", {"type": "subtle"}),
    ("/upscale", {"type": "subtle"}),
    ("/pan", {"type": "up"}),
    ("/zoom", {"type": "2"}),
]


def _job(client, task_id: str) -> Any:
    job = client.app.state.process.store.jobs.get(task_id)
    assert job is not None
    return job


def _stray(image: Image.Image, source: Image.Image) -> float:
    """Mean absolute difference per channel, 0..255."""
    a = np.asarray(image.convert("RGB"), np.int16)
    b = np.asarray(source.convert("RGB"), np.int16)
    return float(np.abs(a - b).mean())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", upscaler="lanczos")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def pro_grid(client, auth) -> str:
    """A completed Pro imagine task (1:1, so 1024x1024 images)."""
    task_id = submit(client, auth, f"{PRO}/imagine", prompt="a harbour at dawn --seed 11")
    done(client, auth, task_id)
    return task_id


def test_imagine_mode_is_a_queue_priority_and_reads_back_as_a_v1_task(client, auth):
    fast = submit(client, auth, f"{PRO}/imagine", prompt="a quick hare", mode="fast")
    plain = submit(client, auth, "/imagine", prompt="a slow boat")
    turbo = submit(client, auth, f"{PRO}/imagine", prompt="a fast car", mode="turbo")
    default = submit(client, auth, f"{PRO}/imagine", prompt="a hare", mode=None)
    ids = (fast, plain, turbo, default)
    assert [_job(client, t).params.priority for t in ids] == [1, 0, 2, 1]
    assert client.app.state.process.queue.drain() == 4
    finished = {t: _job(client, t).completed_at for t in ids}
    assert finished[turbo] < finished[fast] < finished[default] < finished[plain]
    response = client.get(f"{PRO}/generation/{turbo}", headers=auth)
    assert response.status_code == 200
    task = response.json()
    assert task == fetch(client, auth, turbo)
    assert (task["task_type"], task["status"], task["percentage"]) == (
        "imagine",
        "completed",
        "100",
    )
    assert [download(client, u).size for u in task["image_urls"]] == [(1024, 1024)] * 4
    assert download(client, task["original_image_url"]).size == (2048, 2048)
    assert client.get(f"{PRO}/generation/{turbo.upper()}", headers=auth).json() == task
    pro_account = client.get(f"{PRO}/account", headers=auth).json()
    assert pro_account == client.get("/account", headers=auth).json()
    assert pro_account["credits"] == 1000 - 4 * 16 and pro_account["total_images"] == 16


def test_vary_subtle_strays_less_than_variations_and_strong_more(client, auth, pro_grid):
    source = download(client, fetch(client, auth, pro_grid)["image_urls"][1])
    plain = submit(client, auth, f"{PRO}/variations", parent_task_id=pro_grid, index="2")
    subtle = submit(client, auth, f"{PRO}/vary", parent_task_id=pro_grid, index=2, type="subtle")
    strong = submit(client, auth, f"{PRO}/vary", parent_task_id=pro_grid, index="2", type="strong")
    drain(client)
    stray: dict[str, float] = {}
    for name, task_id, kind in [
        ("subtle", subtle, "vary-subtle"),
        ("default", plain, "variations"),
        ("strong", strong, "vary-strong"),
    ]:
        task = fetch(client, auth, task_id)
        assert (task["task_type"], task["status"]) == (kind, "completed")
        images = [download(client, u) for u in task["image_urls"]]
        assert [i.size for i in images] == [(1024, 1024)] * 4
        stray[name] = sum(_stray(i, source) for i in images) / 4
        assert _job(client, task_id).params.action.strength == (None if name == "default" else name)
    assert 0 < stray["subtle"] < stray["default"] < stray["strong"], stray
    assert credits(client, auth) == 1000 - 16 - 3 * 16


def test_upscale_acts_on_grid_image_index_in_one_step(client, auth, pro_grid):
    sources = [download(client, u) for u in fetch(client, auth, pro_grid)["image_urls"]]
    before = credits(client, auth)
    subtle = submit(
        client, auth, f"{PRO}/upscale", parent_task_id=pro_grid, index="3", type="subtle"
    )
    creative = submit(
        client, auth, f"{PRO}/upscale", parent_task_id=pro_grid, index=1, type="creative"
    )
    drain(client)
    for task_id, kind, n in [(subtle, "upscale-subtle", 3), (creative, "upscale-creative", 1)]:
        task = fetch(client, auth, task_id)
        assert (task["task_type"], task["status"]) == (kind, "completed")
        assert "image_urls" not in task
        image = download(client, task["image_url"])
        assert image.size == (2048, 2048)
        small = image.resize((1024, 1024), Image.Resampling.BOX)
        nearest = min(range(4), key=lambda i: _stray(small, sources[i]))
        assert nearest == n - 1, kind  # the image it was asked for, not the first
    assert credits(client, auth) == before - 2 * 8


def test_pan_and_zoom_act_on_grid_image_index(client, auth, pro_grid):
    sources = [download(client, u) for u in fetch(client, auth, pro_grid)["image_urls"]]
    left = submit(client, auth, f"{PRO}/pan", parent_task_id=pro_grid, index="4", type="left")
    zoom = submit(client, auth, f"{PRO}/zoom", parent_task_id=pro_grid, index="2", type="2")
    custom = submit(client, auth, f"{PRO}/zoom", parent_task_id=pro_grid, index=1, type=1.25)
    drain(client)
    task = fetch(client, auth, left)
    assert (task["task_type"], task["status"]) == ("pan-left", "completed")
    panned = [download(client, u) for u in task["image_urls"]]
    assert [i.size for i in panned] == [(1536, 1024)] * 4
    kept = panned[0].crop((512, 0, 1536, 1024))  # the source sits where it falls
    assert _stray(kept, sources[3]) < min(_stray(kept, s) for s in sources[:3])
    for task_id, kind, n in [(zoom, "outpaint-2", 2), (custom, "outpaint-1.25", 1)]:
        task = fetch(client, auth, task_id)
        assert (task["task_type"], task["status"]) == (kind, "completed")
        images = [download(client, u) for u in task["image_urls"]]
        assert [i.size for i in images] == [(1024, 1024)] * 4
        assert _job(client, task_id).params.source.key.endswith(f"-{n}.png")
    assert credits(client, auth) == 1000 - 16 - 3 * 16


@pytest.mark.parametrize(
    ("path", "bad", "allowed"),
    [
        ("/vary", "medium", "'subtle' or 'strong'"),
        ("/vary", None, "'subtle' or 'strong'"),
        ("/upscale", "2x", "'subtle' or 'creative'"),
        ("/pan", "north", "'up', 'down', 'left' or 'right'"),
        ("/zoom", "1", '"1.5", "2" or a number over 1 and at most 2'),
        ("/zoom", 1, '"1.5", "2" or a number over 1 and at most 2'),
        ("/zoom", "{1, 2}", '"1.5", "2" or a number over 1 and at most 2'),
        ("/zoom", 2.5, '"1.5", "2" or a number over 1 and at most 2'),
        ("/zoom", "nan", '"1.5", "2" or a number over 1 and at most 2'),
        ("/zoom", True, '"1.5", "2" or a number over 1 and at most 2'),
    ],
)
def test_a_wrong_type_is_a_400_naming_the_allowed_values(
    client, auth, pro_grid, path, bad, allowed
):
    body = {"parent_task_id": pro_grid, "index": "1", "type": bad}
    error = refused(client.post(PRO + path, json=body, headers=auth), 400, "INVALID_REQUEST")
    assert [e["path"] for e in error["errors"]] == ["type"]
    assert bad is None or allowed in error["message"], error["message"]
    assert credits(client, auth) == 1000 - 16


def test_index_is_required_and_1_to_4(client, auth):
    for path, extra in ACTIONS:
        for index in (None, "5", 5, "0", "one"):
            body = {"parent_task_id": UNKNOWN, "index": index, **extra}
            error = refused(
                client.post(PRO + path, json=body, headers=auth), 400, "INVALID_REQUEST"
            )
            assert [e["path"] for e in error["errors"]] == ["index"], (path, index)
        error = refused(
            client.post(PRO + path, json={"parent_task_id": UNKNOWN, **extra}, headers=auth),
            400,
            "INVALID_REQUEST",
        )
        assert error["errors"][0]["path"] == "index" and "required" in error["message"]
    refused(
        client.post(f"{PRO}/imagine", json={"mode": "relax"}, headers=auth), 400, "INVALID_REQUEST"
    )


def test_unknown_or_foreign_parents_and_generations_are_a_404(client, auth, runtime):
    _, other = runtime.store.accounts.create("other", credits=100)
    theirs = submit(client, {"Authorization": other}, f"{PRO}/imagine", prompt="theirs")
    drain(client)
    for path, extra in ACTIONS:
        for parent in (UNKNOWN, theirs):
            body = {"parent_task_id": parent, "index": "1", **extra}
            response = client.post(PRO + path, json=body, headers=auth)
            assert parent in refused(response, 404, "NOT_FOUND")["message"], path
    for generation in (UNKNOWN, theirs, "not-a-task"):
        response = client.get(f"{PRO}/generation/{generation}", headers=auth)
        assert generation in refused(response, 404, "NOT_FOUND")["message"]
    assert credits(client, auth) == 1000


def test_an_upsample_parent_is_a_400_and_v1_pan_still_needs_one(client, auth, grid, upscale):
    for path, extra in ACTIONS[2:]:  # upscale, pan, zoom of "image 1" of a single image
        pro = {"parent_task_id": upscale, "index": "1", **extra}
        error = refused(client.post(PRO + path, json=pro, headers=auth), 400, "INVALID_PARENT")
        assert "needs a grid job" in error["message"]
    root: list[tuple[str, dict[str, Any]]] = [
        ("/pan", {"direction": "up"}),
        ("/outpaint", {"zoom_ratio": 2}),
        ("/upscale-alt", {"type": "subtle"}),
    ]
    for path, body in root:  # the root v1 routes have no index: a grid parent stays a 400
        response = client.post(path, json={"parent_task_id": grid, **body}, headers=auth)
        assert (
            "upsample one of a grid's images first"
            in refused(response, 400, "INVALID_PARENT")["message"]
        )
    assert credits(client, auth) == 1000 - 16 - 4


def test_a_parent_still_rendering_is_a_409(client, auth):
    grid = submit(client, auth, f"{PRO}/imagine", prompt="a fox", mode="turbo")
    for path, extra in ACTIONS:
        body = {"parent_task_id": grid, "index": 2, **extra}
        response = client.post(PRO + path, json=body, headers=auth)
        assert "QUEUED" in refused(response, 409, "ACTION_UNAVAILABLE")["message"]


def test_insufficient_credits_is_a_402_and_nothing_is_charged(client, runtime):
    _, poor = runtime.store.accounts.create("poor", credits=23)
    poor_auth = {"Authorization": poor}
    grid = submit(client, poor_auth, f"{PRO}/imagine", prompt="a fox", mode="turbo")
    drain(client)
    assert credits(client, poor_auth) == 7
    for path, extra in ACTIONS:
        body = {"parent_task_id": grid, "index": "1", **extra}
        error = refused(
            client.post(PRO + path, json=body, headers=poor_auth), 402, "INSUFFICIENT_CREDITS"
        )
        assert error["credits_available"] == 7 and error["credits_required"] in (8, 16)
    poor_imagine = client.post(f"{PRO}/imagine", json={"prompt": "x"}, headers=poor_auth)
    refused(poor_imagine, 402, "INSUFFICIENT_CREDITS")
    assert credits(client, poor_auth) == 7
    assert client.get(f"{PRO}/account", headers=poor_auth).json()["total_images"] == 4


def test_no_or_unknown_key_is_a_json_401(client):
    for path in ("/imagine", "/variations", "/vary", "/upscale", "/pan", "/zoom"):
        for header in ({}, {"Authorization": "Bearer "}, {"Authorization": "x"}):
            refused(client.post(PRO + path, json={}, headers=header), 401, "AUTHENTICATION_ERROR")
    for path in (f"/generation/{UNKNOWN}", "/account"):
        refused(client.get(PRO + path), 401, "AUTHENTICATION_ERROR")


def test_webhooks_carry_the_task_as_generation_shows_it(client, auth, receiver):
    hook = {"webhook_url": receiver.url, "webhook_secret": "pro-secret"}
    grid = submit(client, auth, f"{PRO}/imagine", prompt="a fox", mode="turbo", **hook)
    drain(client)
    [delivery] = receiver.wait_for(1)
    assert delivery.headers["x-webhook-secret"] == "pro-secret"
    assert delivery.json == client.get(f"{PRO}/generation/{grid}", headers=auth).json()
    vary = submit(
        client, auth, f"{PRO}/vary", parent_task_id=grid, index="1", type="strong", **hook
    )
    drain(client)
    delivery = receiver.wait_for(2)[1]
    assert delivery.json["task_id"] == vary and delivery.json["task_type"] == "vary-strong"
    assert delivery.json["status"] == "completed" and len(delivery.json["image_urls"]) == 4
