"""Upscale (and its quickstart alias) and vary: index mapping, pixels, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import ImageChops

from tests.midapi.steps import credits, drain, finished, images, record, refused, submit, urls


@pytest.fixture
def grid(client, auth) -> str:
    task_id = submit(client, auth, prompt="four owls on a branch --seed 8")
    finished(client, auth, task_id)
    return task_id


def _index(client, task_id: str) -> int:
    job = client.app.state.process.store.jobs.get(task_id)
    assert job is not None
    index = job.params.action.index
    assert index is not None
    return int(index)


def test_upscale_is_the_grid_image_pixel_for_pixel(client, auth, grid):
    tasks = [
        submit(client, auth, "/mj/generateUpscale", taskId=grid, imageIndex=n) for n in range(4)
    ]
    drain(client)
    sources = images(client, record(client, auth, grid))
    for task_id, source in zip(tasks, sources, strict=True):
        data = record(client, auth, task_id)
        assert data["successFlag"] == 1 and data["taskType"] == "mj_upscale"
        [upscaled] = images(client, data)
        assert upscaled.size == source.size
        assert ImageChops.difference(upscaled, source).getbbox() is None


def test_the_quickstart_alias_upscales_with_index(client, auth, grid):
    task_id = submit(client, auth, "/mj/upscale", taskId=grid, index=2)
    data = finished(client, auth, task_id)
    assert _index(client, task_id) == 3 and len(urls(data)) == 1
    also = submit(client, auth, "/mj/upscale", taskId=grid, imageIndex=0)
    assert _index(client, also) == 1


def test_a_watermarked_upscale_differs_from_the_plain_one(client, auth, grid):
    plain = submit(client, auth, "/mj/generateUpscale", taskId=grid, imageIndex=1)
    marked = submit(
        client, auth, "/mj/generateUpscale", taskId=grid, imageIndex=1, waterMark="mine"
    )
    drain(client)
    [a] = images(client, record(client, auth, plain))
    [b] = images(client, record(client, auth, marked))
    assert ImageChops.difference(a, b).getbbox() is not None


def test_vary_takes_0_to_3_zero_based_and_4_as_the_last(client, auth, grid):
    for image_index, grid_image in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 4)]:
        task_id = submit(client, auth, "/mj/generateVary", taskId=grid, imageIndex=image_index)
        assert _index(client, task_id) == grid_image, image_index
    data = finished(client, auth, task_id)
    assert data["taskType"] == "mj_vary" and len(urls(data)) == 4


def test_action_records_echo_their_own_request(client, auth, grid):
    task_id = submit(client, auth, "/mj/generateVary", taskId=grid, imageIndex=1, waterMark="w")
    data = finished(client, auth, task_id)
    assert data["paramJson"] == f'{{"imageIndex":1,"taskId":"{grid}","waterMark":"w"}}'


BAD_INDEXES: list[tuple[str, dict[str, Any]]] = [
    ("/mj/generateUpscale", {"imageIndex": 4}),
    ("/mj/generateUpscale", {"imageIndex": -1}),
    ("/mj/generateUpscale", {"imageIndex": "first"}),
    ("/mj/generateUpscale", {}),
    ("/mj/generateVary", {"imageIndex": 5}),
    ("/mj/generateVary", {"imageIndex": 1, "taskId": ""}),
    ("/mj/upscale", {}),
    ("/mj/upscale", {"index": 4}),
]


def test_a_bad_index_or_task_id_is_a_422(client, auth, grid):
    before = credits(client, auth)
    for path, body in BAD_INDEXES:
        code, msg = refused(client, path, auth, {"taskId": grid, **body})
        assert code == 422 and msg.startswith("Validation Error"), (path, body, msg)
    assert credits(client, auth) == before


def test_an_unknown_or_foreign_task_is_a_404(client, auth, runtime, grid):
    _, other = runtime.store.accounts.create("other", credits=100)
    for path in ["/mj/generateUpscale", "/mj/generateVary"]:
        _unknown_and_foreign(client, auth, other, grid, path)


def _unknown_and_foreign(client, auth, other, grid, path):
    code, msg = refused(client, path, auth, {"taskId": "no-such-task", "imageIndex": 0})
    assert (code, msg) == (404, "Task not found")
    code, _ = refused(
        client, path, {"Authorization": f"Bearer {other}"}, {"taskId": grid, "imageIndex": 0}
    )
    assert code == 404


def test_actions_need_a_finished_grid(client, auth, grid):
    running = submit(client, auth, prompt="not yet")
    code, msg = refused(client, "/mj/generateUpscale", auth, {"taskId": running, "imageIndex": 0})
    assert code == 422 and "QUEUED" in msg
    upscaled = submit(client, auth, "/mj/generateUpscale", taskId=grid, imageIndex=0)
    before = credits(client, auth)
    code, msg = refused(client, "/mj/generateVary", auth, {"taskId": upscaled, "imageIndex": 0})
    assert code == 422 and "upsample" in msg
    assert credits(client, auth) == before
