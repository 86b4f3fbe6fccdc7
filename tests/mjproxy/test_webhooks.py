"""notifyHook: the task object POSTed to a real local receiver when the task ends, signed,
retried by the server's delivery rules like every dialect's webhook (spec §12)."""

from __future__ import annotations

import hashlib
import hmac

from tests.mjproxy.fakes import EXPLODE
from tests.mjproxy.steps import check_go_types, drain, fetch, press, submit


def _signature(api_key: str, body: bytes) -> str:
    secret = hashlib.sha256(api_key.encode()).digest()
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def test_the_hook_carries_the_task_exactly_as_fetch_shows_it(
    client, secret, api_key, receiver, runtime
):
    task_id = submit(client, secret, prompt="a fox", notifyHook=receiver.url, state="mine")
    drain(client)
    assert runtime.workers.dispatcher.wait_idle(10)
    [hook] = receiver.wait_for(1)
    assert hook.json == fetch(client, secret, task_id)  # the same object, SUCCESS
    check_go_types(hook.json)
    assert (hook.json["status"], hook.json["state"]) == ("SUCCESS", "mine")
    assert hook.headers["content-type"] == "application/json"
    assert hook.headers["x-webhook-event"] == "completed"
    assert hook.headers["x-webhook-signature"] == _signature(api_key, hook.body)
    assert len(receiver.requests) == 1  # only the end: no progress or start events


def test_a_failed_task_calls_back_with_its_reason_and_a_refused_post_is_retried(
    client, secret, receiver, runtime
):
    receiver.reply_with([500])
    task_id = submit(client, secret, prompt=f"an {EXPLODE}", notifyHook=receiver.url)
    drain(client)
    first, second = receiver.wait_for(2)
    assert (
        first.body == second.body
        and first.headers["x-webhook-id"] == second.headers["x-webhook-id"]
    )
    assert [first.headers["x-webhook-attempt"], second.headers["x-webhook-attempt"]] == ["1", "2"]
    assert second.json["id"] == task_id and second.json["status"] == "FAILURE"
    assert second.json["progress"] == "100%" and "exploded" in second.json["failReason"]
    assert runtime.workers.dispatcher.wait_idle(10)


def test_a_hook_on_a_button_applies_to_the_task_it_creates(client, secret, grid, receiver):
    task_id = press(client, secret, grid, "V2", notifyHook=receiver.url)
    drain(client)
    [hook] = receiver.wait_for(1)
    assert hook.json["id"] == task_id and hook.json["action"] == "VARIATION"
    assert hook.json["parentId"] == grid["id"]


def test_no_hook_no_callback_and_a_blank_hook_is_no_hook(client, secret, receiver, runtime):
    submit(client, secret, prompt="a fox", notifyHook="")
    drain(client)
    assert runtime.workers.dispatcher.wait_idle(10)
    assert receiver.requests == []
