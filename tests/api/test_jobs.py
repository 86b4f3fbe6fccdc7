"""GET /v2/jobs, GET /v2/jobs/{id}, /v2/me, /v2/models and Idempotency-Key."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from selfjourney.embedded import build_embedded
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.flows import act, balance, drain, finished, generate


def test_get_job_of_another_key_is_404_and_a_bad_id_is_400(client, headers, runtime):
    job_id = generate(client, headers)
    _, other = runtime.store.accounts.create("other", credits=0)
    response = client.get(f"/v2/jobs/{job_id}", headers={"X-API-Key": other})
    assert response.status_code == 404 and response.json() == {"error": "Job not found"}
    assert client.get(f"/v2/jobs/{uuid.uuid4()}", headers=headers).status_code == 404
    bad = client.get("/v2/jobs/not-a-uuid", headers=headers)
    assert bad.status_code == 400 and isinstance(bad.json()["error"], str)


def test_job_echoes_its_input(client, headers):
    job_id = generate(
        client,
        headers,
        prompt="tea",
        midjourneyParams={"aspect_ratio": "3:2"},
        webhookEvents=["failed"],
    )
    job = client.get(f"/v2/jobs/{job_id}", headers=headers).json()
    assert job["input"] == {
        "model": "midjourney",
        "prompt": "tea",
        "midjourneyParams": {"aspect_ratio": "3:2"},
        "webhookEvents": ["failed"],
    }
    assert job["expired"] is False and job["model"] == "midjourney"


def test_list_pages_newest_first_without_gaps_or_repeats(client, headers):
    made = [generate(client, headers, prompt=f"p{n}") for n in range(25)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=10" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v2/jobs?{query}", headers=headers).json()
        pages += 1
        assert all("input" not in job and job["expired"] is False for job in page["jobs"])
        seen += [job["id"] for job in page["jobs"]]
        assert page["hasMore"] is (page["nextCursor"] is not None)
        if not page["hasMore"]:
            break
        cursor = page["nextCursor"]
    assert pages == 3 and seen == list(reversed(made))


def test_list_filters_by_status_model_and_search(client, headers):
    done = finished(client, headers, generate(client, headers))["id"]
    queued = generate(client, headers)
    by_status = client.get("/v2/jobs?status=QUEUED", headers=headers).json()["jobs"]
    assert [job["id"] for job in by_status] == [queued]
    completed = client.get("/v2/jobs?status=COMPLETED&model=midjourney", headers=headers).json()
    assert [job["id"] for job in completed["jobs"]] == [done]
    assert client.get("/v2/jobs?model=flux", headers=headers).json()["jobs"] == []
    found = client.get(f"/v2/jobs?search={done}", headers=headers).json()["jobs"]
    assert [job["id"] for job in found] == [done]
    with_models = client.get("/v2/jobs?include_models=true", headers=headers).json()
    assert with_models["models"] == ["midjourney"]
    assert client.get("/v2/jobs?scope=team", headers=headers).status_code == 200


def test_list_only_shows_the_callers_jobs(client, headers, runtime):
    generate(client, headers)
    _, other = runtime.store.accounts.create("other", credits=0)
    assert client.get("/v2/jobs", headers={"X-API-Key": other}).json()["jobs"] == []


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=ten",
        "status=DONE",
        "cursor=%%%",
        "cursor=eyJ4IjoxfQ",
        "search=nope",
        "scope=world",
        "include_models=yes",
    ],
)
def test_bad_list_query_is_400(client, headers, query):
    response = client.get(f"/v2/jobs?{query}", headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "Validation error"


def test_me_reports_key_credits_and_concurrency(client, headers, runtime):
    me = client.get("/v2/me", headers=headers).json()
    account = runtime.service.authenticate(headers["X-API-Key"])
    assert me["apiKey"] == {"id": account.id, "name": "test", "prefix": headers["X-API-Key"][:12]}
    assert me["team"]["credits"] == 1000 and me["team"]["maxConcurrentJobs"] >= 1
    assert me["team"]["customerId"] is None and me["user"]["role"] in ("ADMIN", "MEMBER", "OWNER")
    assert "@" in me["user"]["email"]


def test_models_needs_no_key_and_filters_by_modality(client):
    models = client.get("/v2/models").json()["models"]
    assert [m["id"] for m in models] == ["midjourney"]
    assert (
        models[0]["modality"] == "image"
        and models[0]["costMin"] == 4
        and models[0]["costMax"] == 16
    )
    assert client.get("/v2/models?modality=video").json() == {"models": []}
    assert client.get("/v2/models?modality=smell").status_code == 400


def test_idempotency_key_replays_the_same_job_and_charges_once(client, headers):
    body = {"model": "midjourney", "prompt": "once"}
    key = {**headers, "Idempotency-Key": "order-42"}
    first = client.post("/v2/images/generate", json=body, headers=key)
    before = balance(client, headers)
    second = client.post(
        "/v2/images/generate", json={"prompt": "once", "model": "midjourney"}, headers=key
    )
    assert first.status_code == second.status_code == 202
    assert first.json()["jobId"] == second.json()["jobId"]
    assert balance(client, headers) == before
    drain(client)
    third = client.post("/v2/images/generate", json=body, headers=key)
    assert third.json() == {"jobId": first.json()["jobId"], "status": "COMPLETED"}


def test_idempotency_key_with_another_body_is_409(client, headers):
    key = {**headers, "Idempotency-Key": "k1"}
    client.post("/v2/images/generate", json={"model": "midjourney", "prompt": "a"}, headers=key)
    before = balance(client, headers)
    response = client.post(
        "/v2/images/generate", json={"model": "midjourney", "prompt": "b"}, headers=key
    )
    assert response.status_code == 409 and "Idempotency-Key" in response.json()["error"]
    assert balance(client, headers) == before


def test_idempotency_keys_are_per_api_key_and_work_on_actions(client, headers, runtime):
    grid = finished(client, headers, generate(client, headers))
    _, other = runtime.store.accounts.create("other", credits=100)
    key = "shared-name"
    mine = client.post(
        "/v2/images/generate",
        json={"model": "midjourney", "prompt": "a"},
        headers={**headers, "Idempotency-Key": key},
    ).json()["jobId"]
    theirs = client.post(
        "/v2/images/generate",
        json={"model": "midjourney", "prompt": "a"},
        headers={"X-API-Key": other, "Idempotency-Key": key},
    ).json()["jobId"]
    assert mine != theirs
    body = {"parentJobId": grid["id"], "action": "upsample", "index": 1}
    action_key = {**headers, "Idempotency-Key": "u1"}
    a = client.post("/v2/images/midjourney/action", json=body, headers=action_key).json()
    b = client.post("/v2/images/midjourney/action", json=body, headers=action_key).json()
    assert a["jobId"] == b["jobId"]


def test_idempotency_key_longer_than_255_is_400(client, headers):
    response = client.post(
        "/v2/images/generate",
        json={"model": "midjourney", "prompt": "a"},
        headers={**headers, "Idempotency-Key": "k" * 256},
    )
    assert response.status_code == 400


def test_idempotency_key_expires_after_24_hours(tmp_path: Path):
    from fastapi.testclient import TestClient

    clock = FakeClock()
    settings = make_settings(tmp_path / "data")
    runtime = build_embedded(settings, clock=clock)
    _, raw = runtime.store.accounts.create("t", credits=100)
    headers = {"X-API-Key": raw, "Idempotency-Key": "daily"}
    body = {"model": "midjourney", "prompt": "a"}
    with TestClient(runtime.app()) as client:
        first = client.post("/v2/images/generate", json=body, headers=headers).json()["jobId"]
        clock.now += timedelta(hours=23)
        assert (
            client.post("/v2/images/generate", json=body, headers=headers).json()["jobId"] == first
        )
        clock.now += timedelta(hours=2)
        again = client.post("/v2/images/generate", json=body, headers=headers).json()["jobId"]
        assert again != first
        other_body = {"model": "midjourney", "prompt": "b"}
        assert (
            client.post("/v2/images/generate", json=other_body, headers=headers).status_code == 409
        )


def test_children_keep_the_prompt_and_link_to_the_parent(client, headers, runtime):
    grid = finished(client, headers, generate(client, headers, prompt="violet tulips"))
    child = act(client, headers, grid["id"], action="variation", index=2)
    job = runtime.store.jobs.get(child)
    assert job is not None and job.parent_id == grid["id"] and job.prompt == "violet tulips"


def test_a_job_carries_selfjourneys_details_beside_the_vendors_fields(client, headers):
    """Kind, prompt, flags, seed, parent, the button's arguments, size and the buttons it can
    take now: what the playground draws a job with (the contract allows more properties)."""
    grid = generate(
        client,
        headers,
        prompt="a lighthouse --seed 7 --chaos 20",
        midjourneyParams={"aspect_ratio": "16:9"},
    )
    queued = client.get(f"/v2/jobs/{grid}", headers=headers).json()["selfjourney"]
    assert queued["actions"] == [] and queued["width"] is None
    drain(client)
    upsample = act(client, headers, grid, action="upsample", index=2)

    details = client.get(f"/v2/jobs/{grid}", headers=headers).json()["selfjourney"]
    assert details == {
        "kind": "imagine",
        "prompt": "a lighthouse",
        "flags": {"aspect_ratio": "16:9", "seed": 7, "chaos": 20},
        "seed": 7,
        "parentJobId": None,
        "args": {},
        "width": 1368,
        "height": 768,
        "actions": ["upsample", "variation", "reroll"],
    }
    listed = client.get("/v2/jobs", headers=headers).json()["jobs"]
    child = next(job for job in listed if job["id"] == upsample)["selfjourney"]
    assert child["kind"] == "upsample" and child["parentJobId"] == grid
    assert child["args"] == {"index": 2} and child["seed"] == 7
    # 1368 px wide: a 4x upscale would pass 4096 px, so only 2x is offered.
    assert child["actions"] == [
        "vary_subtle",
        "vary_strong",
        "inpaint",
        "outpaint",
        "pan",
        "upscale_2x",
    ]
