"""Rough edges a newcomer hit, each answered in words that say what to do: a v2 key sent as
``Authorization: Bearer``, malformed JSON, a body without ``Content-Type``, an http:// or
loopback webhook, the inpaint mask format in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from selfjourney.embedded import build_embedded
from tests.conftest import make_settings

GENERATE = b'{"model": "midjourney", "prompt": "a fox"}'
NOT_JSON = "the request body must be JSON, sent with the header Content-Type: application/json"
SETTING = "SELFJOURNEY_ALLOW_PRIVATE_URLS=1"


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """The production URL policy: http:// and private addresses refused."""
    runtime = build_embedded(make_settings(tmp_path / "data", allow_private_urls=False))
    _, key = runtime.store.accounts.create("newcomer", credits=100)
    try:
        yield TestClient(runtime.app()), key
    finally:
        runtime.stop()


def test_a_v2_key_sent_as_bearer_gets_a_hint(strict):
    client, key = strict
    response = client.get("/v2/me", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error.startswith("API key is required: ") and "X-API-Key" in error, error
    assert client.get("/v2/me").json() == {"error": "API key is required"}  # no header: plain
    both = {"Authorization": f"Bearer {key}", "X-API-Key": key}
    assert client.get("/v2/me", headers=both).status_code == 200


def test_malformed_json_says_so_without_an_offset_as_a_field(strict):
    client, key = strict
    sent = {"X-API-Key": key, "Content-Type": "application/json"}
    response = client.post("/v2/images/generate", content=GENERATE[:-5], headers=sent)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation error",
        "details": {
            "body": ["request body is not valid JSON: Unterminated string starting at character 34"]
        },
    }
    v1 = client.post("/imagine", content=b'{"prompt": ', headers={**sent, "Authorization": key})
    assert v1.status_code == 400
    assert v1.json()["errors"] == [
        {"msg": "request body is not valid JSON: Expecting value at character 11"}
    ]


@pytest.mark.parametrize("content_type", [None, "text/plain"], ids=["missing", "text"])
def test_a_body_without_the_json_content_type_gets_a_plain_message(strict, content_type):
    client, key = strict
    sent = {} if content_type is None else {"Content-Type": content_type}
    v2 = client.post("/v2/images/generate", content=GENERATE, headers={**sent, "X-API-Key": key})
    assert v2.status_code == 400
    assert v2.json() == {"error": "Validation error", "details": {"body": [NOT_JSON]}}
    v1 = client.post("/imagine", content=b'{"prompt": "x"}', headers={**sent, "Authorization": key})
    assert v1.status_code == 400 and v1.json()["message"] == NOT_JSON
    midapi = client.post(
        "/api/v1/mj/generate",
        content=b'{"prompt": "x"}',
        headers={**sent, "Authorization": f"Bearer {key}"},
    )
    assert midapi.json() == {"code": 400, "msg": f"Bad Request: {NOT_JSON}", "data": None}


def test_json_that_is_not_an_object_says_so(strict):
    client, key = strict
    sent = {"X-API-Key": key, "Content-Type": "application/json"}
    response = client.post("/v2/images/generate", content=b'"a fox"', headers=sent)
    assert response.json()["details"] == {"body": ["request body must be a JSON object"]}


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://example.com/hook", "webhookUrl must use https://"),
        ("https://127.0.0.1/hook", "webhookUrl points to a loopback address (127.0.0.1)"),
        ("https://localhost/hook", "webhookUrl points to a local host name (localhost)"),
    ],
    ids=["http", "loopback", "localhost"],
)
def test_a_webhook_url_the_development_setting_allows_names_it(strict, url, refusal):
    client, key = strict
    body = {"model": "midjourney", "prompt": "a fox", "webhookUrl": url}
    response = client.post("/v2/images/generate", json=body, headers={"X-API-Key": key})
    assert response.status_code == 400
    [message] = response.json()["details"]["webhookUrl"]
    assert message.startswith(refusal) and SETTING in message, message


def test_a_url_no_setting_allows_does_not_name_it(strict):
    client, key = strict
    body = {"model": "midjourney", "prompt": "a fox", "webhookUrl": "ftp://example.com/hook"}
    response = client.post("/v2/images/generate", json=body, headers={"X-API-Key": key})
    assert response.json()["details"] == {
        "webhookUrl": ["webhookUrl must be an http:// or https:// URL"]
    }


def test_the_mask_format_is_in_the_openapi_document(strict):
    client, _ = strict
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    masks = [s["properties"]["mask"] for s in schemas.values() if "mask" in s.get("properties", {})]
    assert len(masks) == 2  # Apiframe v2 and v1 inpaint
    for mask in masks:
        text = mask["description"]
        assert all(word in text for word in ("base64", "exactly the size", "white", "black"))
