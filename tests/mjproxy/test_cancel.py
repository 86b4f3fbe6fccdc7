"""The native cancel, ``POST /mj/task/{id}/cancel``: a task that has not ended stops, refunded
once, and reads FAILURE with a reason (what new-api refunds on); an ended one is code 4."""

from __future__ import annotations

from tests.mjproxy.steps import credits, envelope, fetch, refused, submit


def test_a_queued_task_is_cancelled_and_refunded(client, secret):
    before = credits(client, secret)
    task_id = submit(client, secret, prompt="a fox")
    assert credits(client, secret) == before - 16
    answer = envelope(client.post(f"/mj/task/{task_id}/cancel", headers=secret))
    assert (answer["code"], answer["result"]) == (1, task_id)
    task = fetch(client, secret, task_id)
    assert task["status"] == "FAILURE" and "cancelled" in task["failReason"], task
    assert task["imageUrl"] is None and task["buttons"] == []
    assert credits(client, secret) == before
    again = refused(client.post(f"/mj/task/{task_id}/cancel", headers=secret))
    assert "only a queued or running job can be cancelled" in again
    assert credits(client, secret) == before  # refunded once


def test_an_ended_or_unknown_task_is_not_cancelled(client, secret, grid):
    before = credits(client, secret)
    ended = refused(client.post(f"/mj/task/{grid['id']}/cancel", headers=secret))
    assert f"job {grid['id']} is COMPLETED" in ended
    unknown = client.post("/mj/task/00000000-0000-0000-0000-000000000000/cancel", headers=secret)
    refused(unknown, code=3, status=404)
    assert credits(client, secret) == before and fetch(client, secret, grid["id"])["status"] == (
        "SUCCESS"
    )
