"""Each v1 endpoint and parameter, end to end in-process: submit, drain, fetch, decode.

Renders are the slow part, so each test renders few grids and checks all it can on them;
tasks left queued are never rendered (the test app has no worker threads).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.apiframe_v1.flows import credits, done, fetch, mask_b64, pixels, refused, submit
from tests.flows import download, drain

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_imagine_moves_from_pending_to_completed_and_ar_field_wins(client, auth):
    task_id = submit(client, auth, "/imagine", prompt="a red fox in the snow", aspect_ratio=None)
    field = submit(client, auth, "/imagine", prompt="a fox --ar 16:9", aspect_ratio="2:3")
    assert fetch(client, auth, task_id) == {
        "task_id": task_id,
        "task_type": "imagine",
        "status": "pending",
        "percentage": "0",
    }
    task = done(client, auth, task_id)
    assert task["percentage"] == "100" and task["task_type"] == "imagine"
    assert set(task) == {
        "task_id",
        "task_type",
        "status",
        "percentage",
        "original_image_url",
        "image_urls",
    }
    grid = download(client, task["original_image_url"])
    images = [download(client, url) for url in task["image_urls"]]
    assert grid.size == (2048, 2048) and [i.size for i in images] == [(1024, 1024)] * 4
    assert pixels(grid.crop((1024, 1024, 2048, 2048))) == pixels(images[3])  # 1 2 / 3 4
    assert download(client, fetch(client, auth, field)["image_urls"][0]).size == (840, 1256)


def test_unknown_keys_are_ignored_like_the_real_v1(client, auth, headers):
    task_id = submit(client, auth, "/imagine", prompt="a fox", mode="turbo", foo={"x": 1})
    assert client.get(f"/v2/jobs/{task_id}", headers=headers).json()["input"] == {"prompt": "a fox"}


def test_prompt_flags_are_parsed_and_seed_answers_at_once(client, auth):
    task_id = submit(client, auth, "/imagine", prompt="a fox --seed 7 --no cars")
    response = client.post("/seed", json={"task_id": task_id}, headers=auth)
    assert response.status_code == 200
    assert response.json() == {"task_id": task_id, "seed": "7"}


def test_upscale_1x_is_the_grid_image_pixel_for_pixel(client, auth):
    grid = submit(client, auth, "/imagine", prompt="a lighthouse --seed 42")
    sources = [download(client, url) for url in done(client, auth, grid)["image_urls"]]
    indexes: list[str | int] = ["1", "2", "3", "4", 1, 4]
    for index in indexes:
        task_id = submit(client, auth, "/upscale-1x", parent_task_id=grid, index=index)
        task = done(client, auth, task_id)  # an upscale is a copy, made at once
        assert task["task_type"] == f"upscale#{index}"
        assert "image_urls" not in task and "original_image_url" not in task
        upscaled = download(client, task["image_url"])
        assert pixels(upscaled) == pixels(sources[int(index) - 1])
    # An upscale shows a picture of its grid, so /seed answers the grid's seed.
    assert client.post("/seed", json={"task_id": task_id}, headers=auth).json()["seed"] == "42"
    account = client.get("/account", headers=auth).json()
    assert account["credits"] == 1000 - 16 - 6 * 4 and account["total_images"] == 4 + 6


def test_a_bad_index_is_a_400(client, auth):
    for index in ["0", "5", 0, 5, "one", " 1", True, None, 1.5, [1]]:
        for path in ("/upscale-1x", "/variations"):
            body = {"parent_task_id": UNKNOWN, "index": index}
            response = refused(client.post(path, json=body, headers=auth), 400, "INVALID_REQUEST")
            assert [e["path"] for e in response["errors"]] == ["index"], (path, index)


def test_variations_and_reroll_make_new_grids(client, auth):
    grid = submit(client, auth, "/imagine", prompt="a fox --ar 3:2 --seed 5")
    drain(client)
    variation = submit(client, auth, "/variations", parent_task_id=grid, index="3")
    reroll = submit(client, auth, "/reroll", parent_task_id=grid)
    drain(client)
    first = download(client, fetch(client, auth, grid)["image_urls"][0])
    for task_id, kind in ((variation, "variations"), (reroll, "reroll")):
        task = fetch(client, auth, task_id)
        assert (task["task_type"], task["status"]) == (kind, "completed")
        assert download(client, task["original_image_url"]).size == (2512, 1680)
        again = download(client, task["image_urls"][0])
        assert again.size == first.size == (1256, 840)  # the parent's --ar is kept
        assert pixels(again) != pixels(first)
    seeds = {
        client.post("/seed", json={"task_id": t}, headers=auth).json()["seed"]
        for t in (grid, reroll)
    }
    assert len(seeds) == 2  # a reroll has a new seed
    prompted = submit(client, auth, "/reroll", parent_task_id=grid, prompt="a wolf")
    assert fetch(client, auth, prompted)["task_type"] == "reroll"


def test_inpaint_outpaint_and_pan_work_on_an_upscale(client, auth, upscale):
    mask = mask_b64((1024, 1024), (0, 0, 300, 300))
    inpaint = submit(client, auth, "/inpaint", parent_task_id=upscale, mask=mask, prompt="a boat")
    pan = submit(client, auth, "/pan", parent_task_id=upscale, direction="left")
    drain(client)
    for task_id, kind, size in [
        (inpaint, "inpaint", (1024, 1024)),
        (pan, "pan-left", (1536, 1024)),
    ]:
        task = fetch(client, auth, task_id)
        assert (task["task_type"], task["status"]) == (kind, "completed")
        assert len(task["image_urls"]) == 4
        assert download(client, task["image_urls"][0]).size == size
    before = credits(client, auth)
    reroll = client.post("/reroll", json={"parent_task_id": inpaint}, headers=auth)
    assert "cannot be rerolled" in refused(reroll, 400, "INVALID_PARENT")["message"]
    assert credits(client, auth) == before  # refused, not accepted then failed
    queued: list[tuple[dict[str, object], str]] = [  # accepted, never rendered
        ({"zoom_ratio": 1.5, "prompt": "x"}, "outpaint-1.5"),
        ({"zoom_ratio": 2}, "outpaint-2"),
        ({"zoom_ratio": "2"}, "outpaint-2"),
        ({"zoom_ratio": 2.0}, "outpaint-2"),
        ({"zoom_ratio": "1.5"}, "outpaint-1.5"),
        ({"zoom_ratio": 1.25}, "outpaint-1.25"),
        ({"zoom_ratio": "1.75"}, "outpaint-1.75"),
    ]
    for body, kind in queued:
        task_id = submit(client, auth, "/outpaint", parent_task_id=upscale, **body)
        assert fetch(client, auth, task_id)["task_type"] == kind
    for direction in ("up", "right", "down"):
        task_id = submit(client, auth, "/pan", parent_task_id=upscale, direction=direction)
        assert fetch(client, auth, task_id)["task_type"] == f"pan-{direction}"


def test_a_bad_mask_is_a_400_and_costs_nothing(client, auth, upscale):
    before = credits(client, auth)
    for mask, reason in [
        (mask_b64((512, 512), (0, 0, 9, 9)), "512x512"),
        (mask_b64((1024, 1024), (0, 0, 0, 0)), "white"),
        ("not base64!", "base64"),
    ]:
        body = {"parent_task_id": upscale, "mask": mask, "prompt": "x"}
        error = refused(client.post("/inpaint", json=body, headers=auth), 400, "INVALID_REQUEST")
        assert error["errors"][0]["path"] == "mask" and reason in error["message"]
    assert credits(client, auth) == before


def test_zoom_ratios_outside_one_to_two_are_a_clear_400(client, auth):
    for ratio in [1, 0.5, 2.01, 3, "(1,2]", "{1, 2}", "", None, True, "nan"]:
        body = {"parent_task_id": UNKNOWN, "zoom_ratio": ratio}
        response = client.post("/outpaint", json=body, headers=auth)
        error = refused(response, 400, "INVALID_REQUEST")
        assert error["errors"][0]["path"] == "zoom_ratio"
        assert ratio is None or "over 1 and at most 2" in error["message"], ratio


@pytest.mark.parametrize(
    ("zoom", "shape", "expected"),
    [(1, "2:1", (1448, 728)), (1.5, "2:1", (1448, 728)), (2, "1:2", (728, 1448))],
)
def test_outpaint_with_aspect_ratio_is_a_custom_zoom_to_that_shape(
    client, auth, upscale, zoom, shape, expected
):
    """The square upscale, zoomed out, centred in a frame of the new shape that keeps its
    pixel count (1024² at 2:1 is about 1448x724)."""
    source = download(client, fetch(client, auth, upscale)["image_url"])
    before = credits(client, auth)
    task_id = submit(
        client, auth, "/outpaint", parent_task_id=upscale, zoom_ratio=zoom, aspect_ratio=shape
    )
    assert credits(client, auth) == before - 16
    task = done(client, auth, task_id)
    assert task["task_type"] == f"outpaint-{zoom:g}"
    image = download(client, task["image_urls"][0]).convert("RGB")
    assert image.size == expected
    # The frame is the zoomed-out square widened (or heightened) to the shape, in source
    # pixels; the source sits in its middle.
    frame_w, frame_h = (2048 * zoom, 1024 * zoom) if shape == "2:1" else (1024 * zoom, 2048 * zoom)
    per_pixel = image.width / frame_w
    left, top = (frame_w - 1024) / 2 * per_pixel, (frame_h - 1024) / 2 * per_pixel
    inner = image.crop(
        (round(left), round(top), round(left + 1024 * per_pixel), round(top + 1024 * per_pixel))
    )
    small = (64, 64)
    diff = np.abs(
        np.asarray(inner.resize(small), np.int16)
        - np.asarray(source.convert("RGB").resize(small), np.int16)
    )
    assert diff.mean() < 6, diff.mean()


def test_zoom_ratio_1_without_a_new_shape_is_a_clear_400(client, auth, upscale):
    for body in ({"zoom_ratio": 1}, {"zoom_ratio": "1", "aspect_ratio": "9:1"}):
        response = client.post("/outpaint", json={"parent_task_id": upscale, **body}, headers=auth)
        error = refused(response, 400, "INVALID_REQUEST")
        assert error["errors"][0]["path"] in ("zoom_ratio", "aspect_ratio")
    assert credits(client, auth) == 1000 - 16 - 4


def test_pan_needs_a_direction(client, auth):
    for direction in ("north", None, 1):
        body = {"parent_task_id": UNKNOWN, "direction": direction}
        response = client.post("/pan", json=body, headers=auth)
        assert refused(response, 400, "INVALID_REQUEST")["errors"][0]["path"] == "direction"


def test_fetch_many_keeps_the_order_asked(client, auth):
    first = submit(client, auth, "/imagine", prompt="one")
    second = submit(client, auth, "/imagine", prompt="two")
    body = {"task_ids": [second, first, second]}
    response = client.post("/fetch-many", json=body, headers=auth)
    assert response.status_code == 200
    tasks = response.json()["tasks"]
    assert [t["task_id"] for t in tasks] == [second, first, second]
    assert tasks[1] == fetch(client, auth, first)


def test_fetch_many_refuses_bad_lists(client, auth):
    for ids in (["one"], [UNKNOWN] * 21, [], "abc", None):
        response = client.post("/fetch-many", json={"task_ids": ids}, headers=auth)
        refused(response, 400, "INVALID_REQUEST")
    response = client.post("/fetch-many", json={"task_ids": [UNKNOWN] * 2}, headers=auth)
    assert UNKNOWN in refused(response, 404, "NOT_FOUND")["message"]


def test_account_with_a_bearer_key(client, api_key):
    body = client.get("/account", headers={"Authorization": f"Bearer {api_key}"}).json()
    assert body == {
        "email": body["email"],
        "credits": 1000,
        "total_images": 0,
        "plan": "self-hosted",
    }
    assert body["email"].endswith("@selfjourney.local")


def test_webhook_secret_alone_is_ignored(client, auth, headers):
    task_id = submit(client, auth, "/imagine", prompt="a fox", webhook_secret="s3cret")
    job = client.get(f"/v2/jobs/{task_id}", headers=headers).json()
    assert job["webhookStatus"] is None and "webhook_secret" not in job["input"]
