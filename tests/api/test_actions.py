"""POST /v2/images/midjourney/action: what each button produces, and every parent rule."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageChops

from selfjourney.domain.status import JobStatus
from selfjourney.embedded import Embedded
from tests.flows import act, balance, download, drain, finished, generate


@pytest.fixture
def grid(client, headers) -> dict[str, Any]:
    return finished(client, headers, generate(client, headers, prompt="a lighthouse by the sea"))


@pytest.fixture
def upsample(client, headers, grid) -> dict[str, Any]:
    return finished(client, headers, act(client, headers, grid["id"], action="upsample", index=2))


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def _mean_diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(_pixels(a) - _pixels(b)).mean())


def _mask_png(size: tuple[int, int], box: tuple[int, int, int, int]) -> bytes:
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("index", [1, 2, 3, 4])
def test_upsample_is_exactly_grid_image_n_standalone(client, headers, grid, index):
    before = balance(client, headers)
    job = finished(
        client, headers, act(client, headers, grid["id"], action="upsample", index=index)
    )
    assert balance(client, headers) == before - 4 and job["creditCost"] == 4
    assert set(job["result"]) == {"images"}  # no gridUrl
    [url] = job["result"]["images"]
    assert url == f"http://testserver/cdn/images/{job['id']}-1.png"
    upsampled = download(client, url)
    source = download(client, grid["result"]["images"][index - 1])
    assert upsampled.size == source.size == (1024, 1024)
    assert ImageChops.difference(upsampled, source).getbbox() is None
    assert job["input"] == {"parentJobId": grid["id"], "action": "upsample", "index": index}


def test_upsample_index_may_be_a_float_with_integral_value(client, headers, grid):
    job = finished(client, headers, act(client, headers, grid["id"], action="upsample", index=3.0))
    assert job["input"]["index"] == 3


def test_variation_is_a_new_grid_close_to_the_chosen_image(client, headers, grid):
    job = finished(client, headers, act(client, headers, grid["id"], action="variation", index=1))
    assert (
        job["creditCost"] == 16 and len(job["result"]["images"]) == 4 and job["result"]["gridUrl"]
    )
    source = download(client, grid["result"]["images"][0])
    other = download(client, grid["result"]["images"][1])
    variations = [download(client, url) for url in job["result"]["images"]]
    for picture in variations:
        assert picture.size == source.size
        assert ImageChops.difference(picture, source).getbbox() is not None
        assert _mean_diff(picture, source) < _mean_diff(other, source)
    assert download(client, job["result"]["gridUrl"]).size == (2048, 2048)


def test_variation_and_upsample_of_a_variation_grid(client, headers, grid):
    variation = finished(
        client, headers, act(client, headers, grid["id"], action="variation", index=4)
    )
    up = finished(
        client, headers, act(client, headers, variation["id"], action="upsample", index=1)
    )
    assert (
        ImageChops.difference(
            download(client, up["result"]["images"][0]),
            download(client, variation["result"]["images"][0]),
        ).getbbox()
        is None
    )


@pytest.mark.parametrize(
    ("direction", "size", "overlap"),
    [
        ("left", (1536, 1024), (512, 0)),
        ("right", (1536, 1024), (0, 0)),
        ("up", (1024, 1536), (0, 512)),
        ("down", (1024, 1536), (0, 0)),
    ],
)
def test_pan_extends_the_picture_keeping_the_original_pixels(
    client, headers, upsample, direction, size, overlap
):
    job = finished(
        client, headers, act(client, headers, upsample["id"], action="pan", direction=direction)
    )
    assert job["creditCost"] == 16 and len(job["result"]["images"]) == 4
    original = download(client, upsample["result"]["images"][0])
    panned = [download(client, url) for url in job["result"]["images"]]
    x, y = overlap
    for picture in panned:
        assert picture.size == size
        kept = picture.crop((x, y, x + 1024, y + 1024))
        assert ImageChops.difference(kept, original).getbbox() is None
    assert ImageChops.difference(panned[0], panned[1]).getbbox() is not None
    assert download(client, job["result"]["gridUrl"]).size == (size[0] * 2, size[1] * 2)


def test_pan_of_a_panned_upsample_keeps_growing_then_is_capped(client, headers, upsample):
    parent = upsample
    sizes = []
    for _ in range(3):
        grid = finished(
            client, headers, act(client, headers, parent["id"], action="pan", direction="right")
        )
        parent = finished(
            client, headers, act(client, headers, grid["id"], action="upsample", index=1)
        )
        sizes.append(download(client, parent["result"]["images"][0]).size)
    assert sizes[0] == (1536, 1024) and sizes[1][0] > 1536
    assert all(w * h <= 2048 * 2048 and w % 8 == 0 and h % 8 == 0 for w, h in sizes)


@pytest.mark.parametrize("ratio", [1.5, 2])
def test_outpaint_zooms_out_keeping_the_size(client, headers, upsample, ratio):
    job = finished(
        client, headers, act(client, headers, upsample["id"], action="outpaint", zoomRatio=ratio)
    )
    original = download(client, upsample["result"]["images"][0])
    inner = round(1024 / ratio)
    offset = (1024 - inner) // 2
    expected = original.resize((inner, inner), Image.Resampling.LANCZOS)
    for url in job["result"]["images"]:
        picture = download(client, url)
        assert picture.size == (1024, 1024)
        centre = picture.crop((offset, offset, offset + inner, offset + inner))
        assert _mean_diff(centre, expected) < 6
    assert job["input"]["zoomRatio"] == ratio


def test_inpaint_repaints_only_the_white_area(client, headers, upsample):
    box = (256, 256, 768, 640)
    mask = base64.b64encode(_mask_png((1024, 1024), box)).decode()
    job_id = act(client, headers, upsample["id"], action="inpaint", mask=mask, prompt="a red boat")
    job = finished(client, headers, job_id)
    assert "mask" not in job["input"] and job["input"]["prompt"] == "a red boat"
    original = _pixels(download(client, upsample["result"]["images"][0]))
    inside = np.zeros(original.shape[:2], dtype=bool)
    inside[box[1] : box[3], box[0] : box[2]] = True
    for url in job["result"]["images"]:
        painted = _pixels(download(client, url))
        assert (painted[~inside] == original[~inside]).all()
        assert np.abs(painted[inside] - original[inside]).mean() > 5


def test_inpaint_accepts_a_data_url_prefix(client, headers, upsample):
    png = _mask_png((1024, 1024), (0, 0, 100, 100))
    mask = "data:image/png;base64," + base64.b64encode(png).decode()
    assert finished(
        client, headers, act(client, headers, upsample["id"], action="inpaint", mask=mask)
    )


@pytest.mark.parametrize(
    ("mask", "reason"),
    [
        ("%%%not-base64%%%", "base64"),
        (base64.b64encode(b"plain text, not an image").decode(), "image"),
        (base64.b64encode(_mask_png((512, 512), (0, 0, 10, 10))).decode(), "512x512"),
        (base64.b64encode(_mask_png((1024, 1024), (0, 0, 0, 0))).decode(), "white"),
    ],
    ids=["not-base64", "not-an-image", "wrong-size", "all-black"],
)
def test_bad_mask_is_a_400_and_costs_nothing(client, headers, upsample, mask, reason):
    before = balance(client, headers)
    response = client.post(
        "/v2/images/midjourney/action",
        json={"parentJobId": upsample["id"], "action": "inpaint", "mask": mask},
        headers=headers,
    )
    assert response.status_code == 400
    assert reason in response.json()["details"]["mask"][0]
    assert balance(client, headers) == before


def _post(client, headers, body):
    return client.post("/v2/images/midjourney/action", json=body, headers=headers)


def test_unknown_parent_is_404(client, headers):
    response = _post(
        client, headers, {"parentJobId": str(uuid.uuid4()), "action": "upsample", "index": 1}
    )
    assert response.status_code == 404 and response.json() == {"error": "Job not found"}


def test_another_keys_parent_is_404_like_an_unknown_one(client, grid, runtime: Embedded):
    _, other = runtime.store.accounts.create("other", credits=100)
    response = _post(
        client, {"X-API-Key": other}, {"parentJobId": grid["id"], "action": "upsample", "index": 1}
    )
    assert response.status_code == 404
    assert runtime.store.accounts.find(other).credits == 100


def test_malformed_parent_id_is_400(client, headers):
    response = _post(client, headers, {"parentJobId": "1234", "action": "upsample", "index": 1})
    assert response.status_code == 400
    assert "parentJobId" in response.json()["details"]


@pytest.mark.parametrize("action", ["upsample", "variation"])
def test_grid_actions_on_an_upsample_are_400(client, headers, upsample, action):
    before = balance(client, headers)
    response = _post(client, headers, {"parentJobId": upsample["id"], "action": action, "index": 1})
    assert response.status_code == 400
    assert "needs a grid job" in response.json()["error"]
    assert balance(client, headers) == before


@pytest.mark.parametrize(
    "body",
    [
        {"action": "pan", "direction": "up"},
        {"action": "outpaint", "zoomRatio": 2},
        {"action": "inpaint", "mask": "AAAA"},
    ],
)
def test_upsample_actions_on_a_grid_are_400(client, headers, grid, body):
    before = balance(client, headers)
    response = _post(client, headers, {"parentJobId": grid["id"], **body})
    assert response.status_code == 400
    assert "needs an upsample job" in response.json()["error"]
    assert balance(client, headers) == before


def test_parent_not_completed_is_409_naming_its_status(client, headers):
    queued = generate(client, headers)
    before = balance(client, headers)
    response = _post(client, headers, {"parentJobId": queued, "action": "upsample", "index": 1})
    assert response.status_code == 409
    assert "QUEUED" in response.json()["error"]
    assert balance(client, headers) == before


def test_parent_failed_is_409(client, headers, runtime: Embedded):
    job_id = generate(client, headers)
    job = runtime.store.jobs.get(job_id)
    assert job is not None
    runtime.store.jobs.fail(job.moved(JobStatus.FAILED, error="boom", refunded=True), [])
    response = _post(client, headers, {"parentJobId": job_id, "action": "variation", "index": 2})
    assert response.status_code == 409 and "FAILED" in response.json()["error"]


def test_parent_whose_images_are_gone_is_409(client, headers, grid, runtime: Embedded):
    runtime.storage.delete(f"images/{grid['id']}-3.png")
    before = balance(client, headers)
    response = _post(client, headers, {"parentJobId": grid["id"], "action": "upsample", "index": 3})
    assert response.status_code == 409
    assert "no longer stored" in response.json()["error"]
    assert balance(client, headers) == before
    assert (
        _post(
            client, headers, {"parentJobId": grid["id"], "action": "upsample", "index": 1}
        ).status_code
        == 202
    )


BAD_ACTIONS = [
    ({"action": "upsample", "index": 5}, "index"),
    ({"action": "upsample", "index": 0}, "index"),
    ({"action": "upsample", "index": True}, "index"),
    ({"action": "upsample", "index": "2"}, "index"),
    ({"action": "upsample"}, "index"),
    ({"action": "variation", "index": 2.5}, "index"),
    ({"action": "pan", "direction": "diagonal"}, "direction"),
    ({"action": "pan", "direction": "up", "index": 1}, "index"),
    ({"action": "outpaint", "zoomRatio": 3}, "zoomRatio"),
    ({"action": "outpaint", "zoomRatio": "2"}, "zoomRatio"),
    ({"action": "inpaint", "mask": ""}, "mask"),
    ({"action": "reroll"}, "action"),
    ({}, "action"),
]


@pytest.mark.parametrize(("body", "path"), BAD_ACTIONS)
def test_invalid_action_body_is_a_400_naming_the_field(client, headers, grid, body, path):
    response = _post(client, headers, {"parentJobId": grid["id"], **body})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "Validation error"
    assert path in response.json()["details"], response.json()


def test_action_402_when_the_balance_is_short(client, headers, grid, runtime: Embedded):
    account = runtime.service.authenticate(headers["X-API-Key"])
    runtime.store.accounts.add_credits(account.id, -(account.credits - 3))
    response = _post(client, headers, {"parentJobId": grid["id"], "action": "upsample", "index": 1})
    assert response.status_code == 402
    assert response.json() == {
        "error": "Insufficient credits",
        "creditsRequired": 4,
        "creditsAvailable": 3,
    }
    drain(client)
    assert client.get("/v2/jobs?limit=100", headers=headers).json()["jobs"][0]["id"] == grid["id"]
