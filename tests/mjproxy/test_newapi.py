"""The server driven as new-api drives it: submits with ``mj-api-secret``, billing on codes
1/21/22 only, and a poller that sends all its unfinished ids to ``list-by-condition`` and
decodes the answer into Go structs (spec §9.2, §11)."""

from __future__ import annotations

from selfjourney.domain.costs import DEFAULT_COSTS
from tests.mjproxy.fakes import EXPLODE
from tests.mjproxy.steps import credits, drain, envelope, image, listed, submit


def test_a_relay_submits_then_polls_its_batch_until_every_task_is_over(client, secret, runtime):
    before = credits(client, secret)
    first = envelope(client.post("/mj/submit/imagine", json={"prompt": "a fox"}, headers=secret))
    assert (first["code"], first["description"], first["properties"]) == (1, "Submit success", {})
    # The test app has no worker threads: the first task still waits, so the second is 22.
    second = envelope(
        client.post("/mj/submit/imagine", json={"prompt": f"an {EXPLODE}"}, headers=secret)
    )
    assert second["code"] == 22 and second["properties"] == {"numberOfQueues": 1}, second
    assert credits(client, secret) == before - 2 * DEFAULT_COSTS["imagine"]  # debited on 1/22

    _, other_key = runtime.store.accounts.create("another relay", credits=100)
    theirs = submit(client, {"mj-api-secret": other_key})
    ids = [first["result"], "no-such-task", theirs, second["result"], first["result"]]
    waiting = listed(client, secret, ids)
    assert [t["id"] for t in waiting] == [first["result"], second["result"]]  # asked, found, once
    assert {(t["status"], t["progress"]) for t in waiting} == {("NOT_START", "0%")}

    drain(client)
    done, failed = listed(client, secret, ids)
    assert (done["status"], done["progress"], done["failReason"]) == ("SUCCESS", "100%", None)
    assert done["imageUrl"].startswith("http://testserver/cdn/images/")
    assert done["finishTime"] >= done["startTime"] >= done["submitTime"]
    assert (failed["status"], failed["progress"]) == ("FAILURE", "100%")
    assert "exploded" in failed["failReason"] and failed["imageUrl"] is None
    assert failed["buttons"] == [] and failed["finishTime"] is not None
    # The failed task is refunded, as new-api refunds its own user on FAILURE.
    assert credits(client, secret) == before - DEFAULT_COSTS["imagine"]


def test_list_by_condition_takes_numbers_blanks_and_empty_batches(client, secret, grid):
    assert listed(client, secret, []) == []
    for body in ({}, {"ids": None}):
        response = client.post("/mj/task/list-by-condition", json=body, headers=secret)
        assert (response.status_code, response.json()) == (200, [])
    # Numbers are read as their digits (the Dooy gallery sends them); ids are trimmed.
    found = listed(client, secret, [1234567890123456, f"  {grid['id']} ", "", grid["id"]])
    assert [task["id"] for task in found] == [grid["id"]]
    alias = client.post("/mj/task/list-by-ids", json={"ids": [grid["id"]]}, headers=secret)
    assert alias.json() == found


def test_a_poll_of_a_thousand_ids_answers_only_what_it_knows(client, secret, grid):
    ids = [f"unknown-{n}" for n in range(999)] + [grid["id"]]
    assert [task["id"] for task in listed(client, secret, ids)] == [grid["id"]]


def test_list_by_condition_answers_under_every_prefix(client, secret, grid):
    """new-api builds ``{channel base}/mj/task/list-by-condition``: the base may hold a prefix."""
    for prefix in ("/mj", "/mj-fast/mj", "/mj-relax/mj", "/mj-turbo/mj"):
        assert [t["id"] for t in listed(client, secret, [grid["id"]], prefix)] == [grid["id"]]


def test_the_grid_task_carries_the_composite_and_the_four_images(client, grid):
    composite = image(client, grid["imageUrl"])
    pictures = [image(client, item["url"]) for item in grid["imageUrls"]]
    assert grid["imageUrl"].endswith("-grid.png") and len(pictures) == 4
    width, height = pictures[0].size
    assert composite.size == (2 * width, 2 * height)
    for n, picture in enumerate(pictures):  # 1 top left, 2 top right, 3 bottom left, 4 ...
        x, y = (n % 2) * width, (n // 2) * height
        assert composite.crop((x, y, x + width, y + height)).tobytes() == picture.tobytes()


def test_the_task_object_fields(client, secret):
    task_id = submit(client, secret, prompt="a lighthouse --ar 16:9 --seed 4242", state="s-1")
    drain(client)
    [task] = listed(client, secret, [task_id])
    assert task["action"] == "IMAGINE" and task["customId"] is None and task["parentId"] is None
    assert task["prompt"] == task["promptEn"] == "a lighthouse --ar 16:9 --seed 4242"
    assert task["description"] == "/imagine a lighthouse --ar 16:9 --seed 4242"
    assert task["properties"] == {
        "finalPrompt": "a lighthouse --ar 16:9 --seed 4242",
        "finalZhPrompt": "",
        "expired": False,
    }
    assert (task["state"], task["seed"], task["botType"], task["mode"]) == (
        "s-1",
        "4242",
        "MID_JOURNEY",
        "FAST",
    )
    assert task["videoUrl"] is None and task["videoUrls"] is None
    labels = [b["label"] or b["emoji"] for b in task["buttons"]]
    assert labels == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]
    assert {(b["type"], b["style"]) for b in task["buttons"]} == {(2, 2)}
    assert task["buttons"][1]["customId"] == f"MJ::JOB::upsample::2::{task_id}"


def test_the_keys_task_list_and_queue(client, secret, grid):
    waiting = [submit(client, secret, prompt=f"fox {n}") for n in range(3)]
    newest = client.get("/mj/task/list", headers=secret).json()
    assert [task["id"] for task in newest] == [*reversed(waiting), grid["id"]]
    queue = client.get("/mj-relax/mj/task/queue", headers=secret).json()
    assert [task["id"] for task in queue] == waiting  # unfinished, oldest first
