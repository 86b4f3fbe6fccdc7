"""POST /v2/images/generate end to end: acceptance, images, validation, auth, credits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from PIL import ImageChops

from selfjourney.embedded import Embedded
from tests.flows import balance, download, drain, finished, generate

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


def test_generate_returns_202_then_a_grid_of_four_full_size_images(client, headers):
    response = client.post(
        "/v2/images/generate",
        json={"model": "midjourney", "prompt": "a futuristic city skyline at sunset"},
        headers=headers,
    )
    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]
    body = response.json()
    assert set(body) == {"jobId", "status"} and body["status"] == "QUEUED"
    assert __import__("re").match(UUID_PATTERN, body["jobId"])

    queued = client.get(f"/v2/jobs/{body['jobId']}", headers=headers).json()
    assert queued["status"] == "QUEUED" and queued["progress"] == 0
    assert queued["result"] is None and queued["creditCost"] == 16
    assert queued["completedAt"] is None and queued["webhookStatus"] is None

    job = finished(client, headers, body["jobId"])
    assert job["progress"] == 100 and job["error"] is None and job["creditCost"] == 16
    assert job["completedAt"].endswith("Z") and job["createdAt"] <= job["completedAt"]
    images = job["result"]["images"]
    assert images == [f"http://testserver/cdn/images/{body['jobId']}-{n}.png" for n in (1, 2, 3, 4)]
    assert job["result"]["gridUrl"] == f"http://testserver/cdn/images/{body['jobId']}-grid.png"

    pictures = [download(client, url) for url in images]
    assert all(p.size == (1024, 1024) and p.mode == "RGB" for p in pictures)
    grid = download(client, job["result"]["gridUrl"])
    assert grid.size == (2048, 2048)
    for n, picture in enumerate(pictures):
        x, y = (n % 2) * 1024, (n // 2) * 1024
        quadrant = grid.crop((x, y, x + 1024, y + 1024))
        assert ImageChops.difference(quadrant, picture).getbbox() is None
    for a in range(4):
        for b in range(a + 1, 4):
            assert ImageChops.difference(pictures[a], pictures[b]).getbbox() is not None


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [("16:9", 16 / 9), ("9:16", 9 / 16), ("3:1", 3.0), ("1:3", 1 / 3), ("4:3", 4 / 3)],
)
def test_aspect_ratio_sets_the_shape_at_about_one_megapixel(client, headers, ratio, expected):
    job_id = generate(client, headers, midjourneyParams={"aspect_ratio": ratio})
    job = finished(client, headers, job_id)
    width, height = download(client, job["result"]["images"][0]).size
    assert width % 8 == 0 and height % 8 == 0
    assert abs(width / height - expected) / expected < 0.02
    assert 0.9e6 < width * height < 1.15e6
    assert download(client, job["result"]["gridUrl"]).size == (2 * width, 2 * height)


@pytest.mark.parametrize("ratio", ["1:4", "4:1", "0:1", "1:0", "10:1"])
def test_aspect_ratio_out_of_range_is_a_400_and_costs_nothing(client, headers, ratio):
    before = balance(client, headers)
    response = client.post(
        "/v2/images/generate",
        json={"model": "midjourney", "prompt": "x", "midjourneyParams": {"aspect_ratio": ratio}},
        headers=headers,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Validation error"
    assert "midjourneyParams.aspect_ratio" in body["details"]
    assert balance(client, headers) == before
    assert client.get("/v2/jobs", headers=headers).json()["jobs"] == []


BAD_BODIES = [
    ({"model": "midjourney", "prompt": "x", "fluxParams": {}}, "fluxParams"),
    ({"model": "flux", "prompt": "x"}, "model"),
    ({"prompt": "x"}, "model"),
    ({"model": "midjourney"}, "prompt"),
    ({"model": "midjourney", "prompt": ""}, "prompt"),
    ({"model": "midjourney", "prompt": "x" * 2001}, "prompt"),
    ({"model": "midjourney", "prompt": 42}, "prompt"),
    (
        {"model": "midjourney", "prompt": "x", "midjourneyParams": {"stylize": 100}},
        "midjourneyParams.stylize",
    ),
    (
        {"model": "midjourney", "prompt": "x", "midjourneyParams": {"aspect_ratio": "wide"}},
        "midjourneyParams.aspect_ratio",
    ),
    ({"model": "midjourney", "prompt": "x", "webhookEvents": []}, "webhookEvents"),
    ({"model": "midjourney", "prompt": "x", "webhookEvents": ["done"]}, "webhookEvents.0"),
    ({"model": "midjourney", "prompt": "x", "webhookUrl": "not a url"}, "webhookUrl"),
]


@pytest.mark.parametrize(("body", "path"), BAD_BODIES)
def test_invalid_body_is_a_400_validation_error_naming_the_field(client, headers, body, path):
    before = balance(client, headers)
    response = client.post("/v2/images/generate", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert payload["error"] == "Validation error"
    assert path in payload["details"], payload
    assert all(isinstance(m, str) and m for m in payload["details"][path])
    assert balance(client, headers) == before


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"[]", b'"text"', b"null"],
    ids=["broken", "empty", "list", "str", "null"],
)
def test_a_body_that_is_not_a_json_object_is_a_400(client, headers, raw):
    response = client.post(
        "/v2/images/generate",
        content=raw,
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Validation error"


def test_prompt_of_2000_characters_is_accepted(client, headers):
    assert generate(client, headers, prompt="y" * 2000)


def test_missing_key_is_401_api_key_is_required(client):
    response = client.post("/v2/images/generate", json={"model": "midjourney", "prompt": "x"})
    assert response.status_code == 401
    assert response.json() == {"error": "API key is required"}


def test_unknown_key_is_401_invalid_api_key(client):
    response = client.get("/v2/me", headers={"X-API-Key": "afk_" + "n" * 43})
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid API key"}


def test_revoked_key_is_403_api_key_is_inactive(client, runtime: Embedded):
    account, raw = runtime.store.accounts.create("soon revoked", credits=100)
    runtime.store.accounts.set_active(account.id, False)
    response = client.post(
        "/v2/images/generate",
        json={"model": "midjourney", "prompt": "x"},
        headers={"X-API-Key": raw},
    )
    assert response.status_code == 403
    assert response.json() == {"error": "API key is inactive"}
    assert runtime.store.accounts.get(account.id).credits == 100


def test_header_name_is_case_insensitive(client, api_key):
    assert client.get("/v2/me", headers={"x-api-key": api_key}).status_code == 200


def test_auth_is_checked_before_the_body(client):
    response = client.post("/v2/images/generate", json={"model": "nope"})
    assert response.status_code == 401


def test_insufficient_credits_is_402_with_both_numbers_and_nothing_queued(client, runtime):
    _, raw = runtime.store.accounts.create("poor", credits=10)
    headers = {"X-API-Key": raw}
    response = client.post(
        "/v2/images/generate", json={"model": "midjourney", "prompt": "x"}, headers=headers
    )
    assert response.status_code == 402
    assert response.json() == {
        "error": "Insufficient credits",
        "creditsRequired": 16,
        "creditsAvailable": 10,
    }
    assert client.get("/v2/jobs", headers=headers).json()["jobs"] == []
    assert runtime.queue.pending() == 0
    assert balance(client, headers) == 10


def test_credits_are_debited_on_accept_and_recorded_in_the_ledger(client, headers, runtime):
    before = balance(client, headers)
    job_id = generate(client, headers)
    assert balance(client, headers) == before - 16
    account = runtime.service.authenticate(headers["X-API-Key"])
    entries = runtime.store.accounts.ledger(account.id)
    assert [(e.reason, e.delta, e.job_id) for e in entries[-1:]] == [("charge", -16, job_id)]
    assert sum(e.delta for e in entries) == balance(client, headers)
    drain(client)
    assert balance(client, headers) == before - 16  # completing moves no credits


def test_x_request_id_is_on_every_response_and_echoes_the_callers(client, headers):
    assert client.get("/v2/models").headers["x-request-id"]
    assert client.get("/v2/me").headers["x-request-id"]  # errors too
    echoed = client.get("/v2/me", headers={**headers, "X-Request-Id": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"


def test_unknown_route_and_method_are_json_errors(client):
    missing = client.get("/v2/nothing-here")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    wrong = client.put("/v2/images/generate")
    assert wrong.status_code == 405 and "error" in wrong.json()


def test_openapi_docs_list_every_route(client: TestClient):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v2/images/generate",
        "/v2/images/midjourney/action",
        "/v2/jobs",
        "/v2/jobs/{id}",
        "/v2/me",
        "/v2/models",
    ):
        assert path in paths
