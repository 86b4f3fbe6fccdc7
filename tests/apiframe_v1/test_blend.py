"""POST /blend: 2-5 images by URL mixed into a new grid, shaped by ``dimension``.

The images are served over loopback (the test settings allow private URLs, as for reference
images); the worker downloads them when the job runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.domain.sizes import grid_image_size
from tests.apiframe_v1.flows import credits, done, fetch, refused, submit
from tests.flows import download, drain
from tests.midapi.files import FileServer
from tests.midapi.steps import png

COST = DEFAULT_COSTS["imagine"]


@pytest.fixture
def files() -> Iterator[FileServer]:
    served = {
        "/red.png": png((230, 20, 20), (96, 64)),
        "/blue.png": png((20, 20, 230), (64, 96)),
        "/text.txt": b"not an image",
    }
    with FileServer(served) as server:
        yield server


@pytest.mark.parametrize(
    ("dimension", "ratio"),
    [(None, "1:1"), ("square", "1:1"), ("portrait", "2:3"), ("landscape", "3:2")],
)
def test_blend_makes_a_grid_of_the_shape_asked_for(client, auth, files, dimension, ratio):
    urls = [files.url("/red.png"), files.url("/blue.png")]
    extra = {} if dimension is None else {"dimension": dimension}
    before = credits(client, auth)
    task = done(client, auth, submit(client, auth, "/blend", image_urls=urls, **extra))
    assert credits(client, auth) == before - COST
    assert task["task_type"] == "blend" and len(task["image_urls"]) == 4
    sizes = {download(client, url).size for url in task["image_urls"]}
    assert sizes == {grid_image_size(ratio)}


def test_the_blend_takes_its_colours_from_the_images(client, auth, files):
    """Red and blue in, no prompt: the pictures lean red and blue, not green."""
    urls = [files.url("/red.png"), files.url("/blue.png")]
    task = done(client, auth, submit(client, auth, "/blend", image_urls=urls))
    for url in task["image_urls"]:
        red, green, blue = np.asarray(download(client, url).convert("RGB"), np.float32).mean(
            axis=(0, 1)
        )
        assert red > green and blue > green, (red, green, blue)


def test_the_blend_reads_through_the_other_dialects(client, auth, files, api_key):
    urls = [files.url("/red.png"), files.url("/blue.png")]
    task_id = submit(client, auth, "/blend", image_urls=urls, dimension="portrait")
    drain(client)
    job = client.get(f"/v2/jobs/{task_id}", headers={"X-API-Key": api_key}).json()
    assert job["status"] == "COMPLETED" and len(job["result"]["images"]) == 4
    record = client.get(
        "/api/v1/mj/record-info",
        params={"taskId": task_id},
        headers={"Authorization": f"Bearer {api_key}"},
    ).json()
    assert record["data"]["taskType"] == "mj_img2img" and record["data"]["successFlag"] == 1


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"image_urls": ["https://example.com/a.png"]}, "image_urls"),
        ({"image_urls": ["https://example.com/a.png"] * 6}, "image_urls"),
        ({"image_urls": ["not a url", "https://example.com/b.png"]}, "image_urls"),
        ({"image_urls": ["https://a.example/1.png"] * 2, "dimension": "wide"}, "dimension"),
        ({}, "image_urls"),
    ],
)
def test_bad_blends_are_a_clear_400_and_free(client, auth, body, path):
    before = credits(client, auth)
    error = refused(client.post("/blend", json=body, headers=auth), 400, "INVALID_REQUEST")
    assert error["errors"][0]["path"].startswith(path), error
    assert credits(client, auth) == before


def test_an_image_that_is_not_one_fails_the_blend_with_a_refund(client, auth, files):
    before = credits(client, auth)
    urls = [files.url("/red.png"), files.url("/text.txt")]
    task_id = submit(client, auth, "/blend", image_urls=urls)
    drain(client)
    task = fetch(client, auth, task_id)
    assert task["status"] == "failed" and "/text.txt" in task["message"]
    assert credits(client, auth) == before


def test_a_blend_can_be_upscaled_and_varied_like_any_grid(client, auth, files):
    urls = [files.url("/red.png"), files.url("/blue.png")]
    grid = done(client, auth, submit(client, auth, "/blend", image_urls=urls))["task_id"]
    up = done(client, auth, submit(client, auth, "/upscale-1x", parent_task_id=grid, index="3"))
    image = download(client, up["image_url"])
    third = download(client, fetch(client, auth, grid)["image_urls"][2])
    assert isinstance(image, Image.Image) and image.tobytes() == third.tobytes()
