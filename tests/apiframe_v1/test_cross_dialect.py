"""One job, any dialect: v1 tasks read through /v2 and /v2 jobs read through /fetch."""

from __future__ import annotations

from tests.apiframe_v1.flows import done, fetch, mask_b64, submit
from tests.flows import act, drain, finished, generate


def test_a_v1_task_reads_through_v2(client, auth, headers):
    task_id = submit(client, auth, "/imagine", prompt="a fox", aspect_ratio="16:9")
    task = done(client, auth, task_id)
    job = client.get(f"/v2/jobs/{task_id}", headers=headers).json()
    assert job["id"] == task_id and job["status"] == "COMPLETED"
    assert job["result"]["images"] == task["image_urls"]
    assert job["result"]["gridUrl"] == task["original_image_url"]
    assert job["input"] == {"prompt": "a fox", "aspect_ratio": "16:9"}


def test_v2_jobs_of_every_kind_read_through_fetch(client, auth, headers):
    grid = generate(client, headers)
    finished(client, headers, grid)
    up = act(client, headers, grid, action="upsample", index=2)  # completes inline
    variation = act(client, headers, grid, action="variation", index=1)
    drain(client)
    for job_id, kind in ((grid, "imagine"), (up, "upscale#2"), (variation, "variations")):
        task = fetch(client, auth, job_id)
        assert (task["task_type"], task["status"]) == (kind, "completed"), job_id
        v2 = client.get(f"/v2/jobs/{job_id}", headers=headers).json()["result"]
        if kind == "upscale#2":
            assert [task["image_url"]] == v2["images"] and "gridUrl" not in v2
        else:
            assert task["image_urls"] == v2["images"]
            assert task["original_image_url"] == v2["gridUrl"]
    queued = {  # task types are known from the start; these are never rendered
        act(
            client,
            headers,
            up,
            action="inpaint",
            mask=mask_b64((1024, 1024), (0, 0, 64, 64)),
            prompt="x",
        ): "inpaint",
        act(client, headers, up, action="outpaint", zoomRatio=1.5): "outpaint-1.5",
        act(client, headers, up, action="outpaint", zoomRatio=2): "outpaint-2",
        act(client, headers, up, action="pan", direction="left"): "pan-left",
        act(client, headers, up, action="pan", direction="down"): "pan-down",
    }
    many = client.post("/fetch-many", json={"task_ids": list(queued)}, headers=auth).json()
    assert [t["task_type"] for t in many["tasks"]] == list(queued.values())
    assert {t["status"] for t in many["tasks"]} == {"pending"}


def test_v1_rerolls_and_v2_actions_mix(client, auth, headers, grid):
    reroll = done(client, auth, submit(client, auth, "/reroll", parent_task_id=grid))
    job = client.get(f"/v2/jobs/{reroll['task_id']}", headers=headers).json()
    assert job["status"] == "COMPLETED" and job["result"]["images"] == reroll["image_urls"]
    up = act(client, headers, reroll["task_id"], action="upsample", index=1)
    assert fetch(client, auth, up)["task_type"] == "upscale#1"
