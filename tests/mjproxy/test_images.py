"""Image prompts sent inline (``base64Array``, legacy ``base64``): stored with the task as its
reference images, checked before anything is charged (spec §3.1, §3.5)."""

from __future__ import annotations

from PIL import Image

from tests.hostile.steps import Account
from tests.mjproxy.steps import data_url, finished, refused, submit


def test_image_prompts_become_the_grids_references(client, secret, runtime):
    red, blue = Image.new("RGB", (40, 30), (255, 0, 0)), Image.new("RGB", (30, 40), (0, 0, 255))
    task_id = submit(
        client,
        secret,
        prompt="a poppy field",
        base64Array=[data_url(red), data_url(blue, "JPEG")],
        base64=data_url(red, "WEBP").split(",", 1)[1],  # bare base64 works too
    )
    references = runtime.store.jobs.get(task_id).params.references
    assert references is not None and references.mode == "image" and len(references.keys) == 3
    task = finished(client, secret, task_id)
    assert task["action"] == "IMAGINE" and "base64Array" not in str(
        runtime.store.jobs.get(task_id).input
    )


def test_six_images_or_a_bad_one_are_refused_whole(client, secret, api_key):
    account = Account(client, api_key)
    image = data_url(Image.new("RGB", (16, 16)))
    six = {"prompt": "a", "base64Array": [image] * 5, "base64": image}
    assert "at most 5" in refused(client.post("/mj/submit/imagine", json=six, headers=secret))
    text = {"prompt": "a", "base64Array": [image, "data:image/png;base64,aGVsbG8="]}
    description = refused(client.post("/mj/submit/imagine", json=text, headers=secret))
    assert description == "base64Array[1] is not a PNG, JPEG or WebP image"
    account.unchanged()
