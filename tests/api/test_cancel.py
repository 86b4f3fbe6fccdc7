"""``POST /v2/jobs/{id}/cancel``: a queued job becomes CANCELLED, refunded once, and reads so
through every dialect; a finished one answers 409, another key's or an unknown one 404."""

from __future__ import annotations

from tests.flows import balance, drain, finished, generate


def test_a_queued_job_is_cancelled_refunded_and_never_rendered(client, headers, api_key):
    before = balance(client, headers)
    job_id = generate(client, headers)
    response = client.post(f"/v2/jobs/{job_id}/cancel", headers=headers)
    assert response.status_code == 200, response.text
    job = response.json()
    assert (job["status"], job["creditCost"], job["result"]) == ("CANCELLED", 0, None)
    assert balance(client, headers) == before
    drain(client)  # the queue still holds its id: the worker's claim finds nothing to do
    again = client.get(f"/v2/jobs/{job_id}", headers=headers).json()
    assert again["status"] == "CANCELLED" and again["completedAt"] is not None
    second = client.post(f"/v2/jobs/{job_id}/cancel", headers=headers)
    assert second.status_code == 409 and "is CANCELLED" in second.json()["error"]
    assert balance(client, headers) == before
    v1 = client.post("/fetch", json={"task_id": job_id}, headers={"Authorization": api_key})
    assert v1.json()["status"] == "failed" and "cancelled" in v1.json()["message"]
    midapi = client.get(
        "/api/v1/mj/record-info",
        params={"taskId": job_id},
        headers={"Authorization": f"Bearer {api_key}"},
    ).json()["data"]
    assert midapi["successFlag"] == 3 and "cancelled" in midapi["errorMessage"]


def test_a_finished_job_answers_409_and_keeps_its_charge(client, headers):
    job = finished(client, headers, generate(client, headers))
    before = balance(client, headers)
    response = client.post(f"/v2/jobs/{job['id']}/cancel", headers=headers)
    assert response.status_code == 409 and "is COMPLETED" in response.json()["error"]
    assert balance(client, headers) == before


def test_an_unknown_or_foreign_job_is_404(client, headers, runtime):
    job_id = generate(client, headers)
    _, other = runtime.store.accounts.create("other", credits=100)
    foreign = client.post(f"/v2/jobs/{job_id}/cancel", headers={"X-API-Key": other})
    assert foreign.status_code == 404
    unknown = client.post("/v2/jobs/00000000-0000-0000-0000-000000000000/cancel", headers=headers)
    assert unknown.status_code == 404
    malformed = client.post("/v2/jobs/nope/cancel", headers=headers)
    assert malformed.status_code == 400
    assert client.get(f"/v2/jobs/{job_id}", headers=headers).json()["status"] == "QUEUED"
