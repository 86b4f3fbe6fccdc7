"""The upscale action through Apiframe v1: /upscale-alt and /upscale-highres, end to end.

The app upscales with Lanczos here (a 1024² picture through Real-ESRGAN takes seconds to
tens of seconds on a CPU); Real-ESRGAN itself is tested in tests/engines/test_upscale.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from selfjourney.config import Settings
from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.embedded import build_embedded
from tests.apiframe_v1.flows import credits, fetch, refused, submit, submit_done
from tests.conftest import make_settings
from tests.flows import download, drain

COST = DEFAULT_COSTS["upscale"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", upscaler="lanczos")


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": api_key}


@pytest.fixture
def upsample(client, auth) -> str:
    grid = submit_done(client, auth, "/imagine", prompt="a lighthouse --ar 1:1")
    return submit_done(client, auth, "/upscale-1x", parent_task_id=grid, index="2")


@pytest.mark.parametrize(
    ("path", "body", "task_type", "factor"),
    [
        ("/upscale-alt", {"type": "subtle"}, "upscale-subtle", 2),
        ("/upscale-alt", {"type": "creative"}, "upscale-creative", 2),
        ("/upscale-highres", {"type": "2x"}, "upscale-2x", 2),
        ("/upscale-highres", {"type": "4x"}, "upscale-4x", 4),
    ],
)
def test_upscale_of_an_upsample_is_one_bigger_image(
    client, auth, upsample, path, body, task_type, factor
):
    parent = download(client, fetch(client, auth, upsample)["image_url"])
    before = credits(client, auth)
    task_id = submit(client, auth, path, parent_task_id=upsample, **body)
    assert credits(client, auth) == before - COST
    drain(client)
    task = fetch(client, auth, task_id)
    assert task["status"] == "completed" and task["task_type"] == task_type, task
    assert "image_urls" not in task and "original_image_url" not in task
    image = download(client, task["image_url"])
    assert image.size == (parent.width * factor, parent.height * factor)
    shrunk = image.convert("RGB").resize(parent.size, Image.Resampling.BOX)
    diff = np.abs(np.asarray(shrunk, np.int16) - np.asarray(parent.convert("RGB"), np.int16))
    assert diff.mean() < 8  # the same picture, larger
    assert client.get("/account", headers=auth).json()["total_images"] == 4 + 1 + 1


def test_creative_differs_from_subtle(client, auth, upsample):
    subtle = submit(client, auth, "/upscale-alt", parent_task_id=upsample, type="subtle")
    creative = submit(client, auth, "/upscale-alt", parent_task_id=upsample, type="creative")
    drain(client)
    a, b = (download(client, fetch(client, auth, t)["image_url"]) for t in (subtle, creative))
    assert a.size == b.size and a.tobytes() != b.tobytes()


def test_a_grid_parent_is_refused_and_nothing_is_charged(client, auth):
    grid = submit_done(client, auth, "/imagine", prompt="a fox")
    before = credits(client, auth)
    for path, body in [("/upscale-alt", {"type": "subtle"}), ("/upscale-highres", {"type": "4x"})]:
        response = client.post(path, json={"parent_task_id": grid, **body}, headers=auth)
        assert "upsample" in refused(response, 400, "INVALID_PARENT")["message"]
    assert credits(client, auth) == before


def test_an_upscale_cannot_be_upscaled_again(client, auth, upsample):
    twice = submit_done(client, auth, "/upscale-highres", parent_task_id=upsample, type="2x")
    response = client.post(
        "/upscale-highres", json={"parent_task_id": twice, "type": "2x"}, headers=auth
    )
    refused(response, 400, "INVALID_PARENT")


def test_a_result_over_4096_pixels_is_refused_before_charging(client, auth):
    grid = submit_done(client, auth, "/imagine", prompt="a wide bay --ar 16:9")
    wide = submit_done(client, auth, "/upscale-1x", parent_task_id=grid, index="1")
    before = credits(client, auth)
    response = client.post(
        "/upscale-highres", json={"parent_task_id": wide, "type": "4x"}, headers=auth
    )
    assert "4096" in refused(response, 400, "INVALID_REQUEST")["message"]
    assert credits(client, auth) == before


class _Broken:
    name = "broken"

    def upscale(self, image: Image.Image, factor: int) -> Image.Image:
        raise RuntimeError("upscaler exploded")


def test_a_failed_upscale_is_refunded(settings):
    runtime = build_embedded(settings, upscaler=_Broken())
    _, key = runtime.store.accounts.create("t", credits=1000)
    auth = {"Authorization": key}
    with TestClient(runtime.app()) as client:
        grid = submit_done(client, auth, "/imagine", prompt="a lighthouse --ar 1:1")
        upsample = submit_done(client, auth, "/upscale-1x", parent_task_id=grid, index="2")
        before = credits(client, auth)
        task_id = submit(client, auth, "/upscale-highres", parent_task_id=upsample, type="2x")
        drain(client)
        task = fetch(client, auth, task_id)
    assert task["status"] == "failed" and "upscaler exploded" in task["message"]
    assert credits(client, auth) == before


def test_an_upscale_reads_through_v2_and_midapi(client, auth, api_key, upsample):
    task_id = submit_done(client, auth, "/upscale-highres", parent_task_id=upsample, type="2x")
    job = client.get(f"/v2/jobs/{task_id}", headers={"X-API-Key": api_key}).json()
    assert job["status"] == "COMPLETED" and len(job["result"]["images"]) == 1, job
    assert "gridUrl" not in job["result"]
    record = client.get(
        "/api/v1/mj/record-info",
        params={"taskId": task_id},
        headers={"Authorization": f"Bearer {api_key}"},
    ).json()
    assert record["code"] == 200 and record["data"]["taskType"] == "mj_upscale_hd", record
