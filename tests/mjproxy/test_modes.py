"""Speed modes: the path prefix, then ``accountFilter.modes``, then a prompt flag, else FAST;
each is a queue priority and the task's ``mode`` (spec §1.1, §3.1)."""

from __future__ import annotations

from typing import Any

from selfjourney.domain.costs import DEFAULT_COSTS
from tests.mjproxy.steps import credits, fetch, finished, press, submit


def test_the_path_prefix_sets_the_speed(client, secret, runtime):
    for prefix, mode, priority in [
        ("/mj", "FAST", 1),
        ("/mj-fast/mj", "FAST", 1),
        ("/mj-relax/mj", "RELAX", 0),
        ("/mj-turbo/mj", "TURBO", 2),
    ]:
        before = credits(client, secret)
        task_id = submit(client, secret, f"{prefix}/submit/imagine", prompt="a fox")
        task = fetch(client, secret, task_id, prefix)
        assert task["mode"] == mode and runtime.store.jobs.get(task_id).params.priority == priority
        assert credits(client, secret) == before - DEFAULT_COSTS["imagine"]  # one price


def test_turbo_runs_before_fast_and_fast_before_relax(client, secret):
    relax = submit(client, secret, "/mj-relax/mj/submit/imagine", prompt="one")
    fast = submit(client, secret, "/mj/submit/imagine", prompt="two")
    turbo = client.post("/mj-turbo/mj/submit/imagine", json={"prompt": "three"}, headers=secret)
    assert turbo.json()["code"] == 1  # nothing runs before a turbo task
    behind = client.post("/mj-relax/mj/submit/imagine", json={"prompt": "four"}, headers=secret)
    assert behind.json()["code"] == 22 and behind.json()["properties"]["numberOfQueues"] == 3
    assert {fetch(client, secret, i)["status"] for i in (relax, fast)} == {"NOT_START"}


def test_account_filter_then_prompt_flag_then_fast(client, secret):
    cases: list[tuple[dict[str, Any], str]] = [
        ({"prompt": "a fox", "accountFilter": {"modes": ["RELAX"], "instanceId": "x"}}, "RELAX"),
        ({"prompt": "a fox --turbo", "accountFilter": {"modes": ["relax"]}}, "RELAX"),
        ({"prompt": "a fox --turbo"}, "TURBO"),
        ({"prompt": "a fox --relax --v 6"}, "RELAX"),
        ({"prompt": "a fox", "accountFilter": {"modes": []}}, "FAST"),
    ]
    for body, mode in cases:
        task = fetch(client, secret, submit(client, secret, **body))
        assert task["mode"] == mode, body
    task = fetch(
        client,
        secret,
        submit(
            client,
            secret,
            "/mj-turbo/mj/submit/imagine",
            prompt="a fox --relax",
            accountFilter={"modes": ["RELAX"]},
        ),
    )
    assert task["mode"] == "TURBO"  # the prefix first


def test_speed_flags_are_not_drawn(client, secret, runtime):
    task_id = submit(client, secret, prompt="a fox --relax in snow")
    job = runtime.store.jobs.get(task_id)
    assert job.prompt == "a fox in snow"
    assert fetch(client, secret, task_id)["prompt"] == "a fox --relax in snow"  # as sent


def test_follow_ups_keep_their_parents_speed_unless_their_prefix_says(client, secret):
    grid = finished(
        client, secret, submit(client, secret, "/mj-turbo/mj/submit/imagine", prompt="a fox")
    )
    assert fetch(client, secret, press(client, secret, grid, "V1"))["mode"] == "TURBO"
    relaxed = submit(
        client,
        secret,
        "/mj-relax/mj/submit/action",
        taskId=grid["id"],
        customId=grid["buttons"][5]["customId"],
    )
    assert fetch(client, secret, relaxed)["mode"] == "RELAX"


def test_task_routes_answer_under_every_prefix(client, secret, grid):
    for prefix in ("/mj-fast/mj", "/mj-relax/mj", "/mj-turbo/mj"):
        assert fetch(client, secret, grid["id"], prefix) == fetch(client, secret, grid["id"])
        seed = client.get(f"{prefix}/task/{grid['id']}/image-seed", headers=secret).json()
        assert seed == {
            "code": 1,
            "description": "Success",
            "result": grid["seed"],
            "properties": {},
        }


def test_niji_bot_type(client, secret, runtime):
    niji = submit(client, secret, prompt="a fox", botType="NIJI_JOURNEY")
    assert fetch(client, secret, niji)["botType"] == "NIJI_JOURNEY"
    assert runtime.store.jobs.get(niji).params.flags.niji is True
    versioned = submit(client, secret, prompt="a fox --v 6", botType="niji")
    assert fetch(client, secret, versioned)["botType"] == "MID_JOURNEY"  # the prompt chose
    unknown = submit(client, secret, prompt="a fox", botType="SOMETHING")
    assert fetch(client, secret, unknown)["botType"] == "MID_JOURNEY"
