"""One job, every dialect: a task made here reads through Apiframe v2, v1 and midapi, and
their jobs read (and take buttons) here (spec §5, "Jobs made by other dialects")."""

from __future__ import annotations

from PIL import Image

from tests.flows import act, generate
from tests.flows import finished as v2_finished
from tests.mjproxy.steps import button, data_url, fetch, finished, press, submit


def test_a_task_made_here_reads_through_every_dialect(client, api_key, upsample):
    v2 = client.get(f"/v2/jobs/{upsample['id']}", headers={"X-API-Key": api_key}).json()
    assert v2["status"] == "COMPLETED" and v2["result"]["images"] == [upsample["imageUrl"]]
    v1 = client.post("/fetch", json={"task_id": upsample["id"]}, headers={"Authorization": api_key})
    assert v1.json()["task_type"] == "upscale#2" and v1.json()["image_url"] == upsample["imageUrl"]
    midapi = client.get(
        "/api/v1/mj/record-info",
        params={"taskId": upsample["id"]},
        headers={"Authorization": f"Bearer {api_key}"},
    ).json()
    assert midapi["data"]["successFlag"] == 1


def test_jobs_of_other_dialects_read_here_with_their_buttons(client, secret, api_key):
    headers = {"X-API-Key": api_key}
    grid_id = generate(client, headers, prompt="a lighthouse --ar 3:2")
    v2_finished(client, headers, grid_id)
    upsample_id = act(client, headers, grid_id, action="upsample", index=3)
    pan_id = act(client, headers, upsample_id, action="pan", direction="up")
    grid = fetch(client, secret, grid_id)
    assert (grid["action"], grid["status"], grid["mode"]) == ("IMAGINE", "SUCCESS", "RELAX")
    assert grid["prompt"] == "a lighthouse --ar 3:2" and len(grid["buttons"]) == 9
    upsample = fetch(client, secret, upsample_id)
    assert upsample["customId"] == f"MJ::JOB::upsample::3::{grid_id}"
    assert "Make Square" in [b["label"] for b in upsample["buttons"]]  # 3:2
    pan = finished(client, secret, pan_id)
    assert (
        pan["customId"] == button(upsample, "⬆️")
        and pan["description"] == f"/up {upsample_id} pan_up"
    )
    # ... and their buttons work here.
    variation = finished(client, secret, press(client, secret, upsample, "Vary (Strong)"))
    assert variation["parentId"] == upsample_id
    v2 = client.get(f"/v2/jobs/{variation['id']}", headers=headers).json()
    assert v2["status"] == "COMPLETED" and len(v2["result"]["images"]) == 4


def test_a_blend_reads_as_blend(client, secret):
    blend_id = submit(
        client,
        secret,
        "/mj/submit/blend",
        base64Array=[_png((255, 0, 0)), _png((0, 0, 255))],
        dimensions="PORTRAIT",
    )
    task = finished(client, secret, blend_id)
    assert task["action"] == "BLEND" and task["description"] == f"/blend {blend_id} 2"
    assert task["customId"] is None and len(task["imageUrls"]) == 4
    assert task["properties"]["finalPrompt"].startswith("--ar 2:3")


def _png(colour: tuple[int, int, int]) -> str:
    return data_url(Image.new("RGB", (48, 48), colour))
