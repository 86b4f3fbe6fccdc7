"""Credits, download-url and auth: the common API and the envelope for every refusal."""

from __future__ import annotations

import pytest

from tests.midapi.steps import call, finished, refused, submit, urls

ENDPOINTS = [
    ("POST", "/mj/generate", {"taskType": "mj_txt2img", "prompt": "x"}),
    ("POST", "/mj/generateUpscale", {"taskId": "t", "imageIndex": 0}),
    ("POST", "/mj/upscale", {"taskId": "t", "index": 0}),
    ("POST", "/mj/generateVary", {"taskId": "t", "imageIndex": 0}),
    ("GET", "/mj/record-info?taskId=t", None),
    ("GET", "/common/credit", None),
    ("GET", "/chat/credit", None),
    ("POST", "/common/download-url", {"url": "https://example.com/a.png"}),
]


@pytest.mark.parametrize("path", ["/common/credit", "/chat/credit"])
def test_credit_is_the_balance_as_a_bare_number(client, auth, path):
    assert call(client, path, auth) == {"code": 200, "msg": "success", "data": 1000}
    submit(client, auth)
    assert call(client, path, auth)["data"] == 1000 - 16


def test_download_url_returns_our_own_url_unchanged(client, auth):
    task_id = submit(client, auth)
    url = urls(finished(client, auth, task_id))[2]
    envelope = call(client, "/common/download-url", auth, {"url": url})
    assert envelope == {"code": 200, "msg": "success", "data": url}
    assert client.get(url.removeprefix("http://testserver")).status_code == 200


EXTERNAL = [
    "https://tempfile.aiquickdraw.com/v/42ea4a4250571eb18361bd2e309c8e8a_0_0.jpeg",
    "http://testserver/cdn/../etc/passwd",
    "http://testserver/cdn/images/whatever.png",
    "http://testserver/cdn/images/0f8b7c2e-1111-4a4a-9b9b-000000000000-1.png.evil",
    "not a url",
]


def test_download_url_refuses_external_urls(client, auth):
    for url in EXTERNAL:
        code, msg = refused(client, "/common/download-url", auth, {"url": url})
        assert (code, msg) == (422, "Invalid URL (External file URLs are not supported)"), url


def test_download_url_of_another_keys_or_an_expired_image(client, auth, runtime):
    task_id = submit(client, auth)
    url = urls(finished(client, auth, task_id))[0]
    _, other = runtime.store.accounts.create("other", credits=10)
    code, msg = refused(
        client, "/common/download-url", {"Authorization": f"Bearer {other}"}, {"url": url}
    )
    assert (code, msg) == (404, "File not found")
    runtime.store.jobs.mark_expired(task_id)
    code, msg = refused(client, "/common/download-url", auth, {"url": url})
    assert code == 422 and "expired" in msg


def _send(client, method, path, body, headers):
    url = f"/api/v1{path}"
    if method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, json=body, headers=headers)


def test_auth_failures_are_code_401_with_http_200(client, runtime, api_key):
    account, revoked = runtime.store.accounts.create("revoked", credits=100)
    runtime.store.accounts.set_active(account.id, False)
    ways = {
        "missing": {},
        "invalid": {"Authorization": "Bearer afk_not-a-real-key"},
        "empty-bearer": {"Authorization": "Bearer "},
        "revoked": {"Authorization": f"Bearer {revoked}"},
        "v2-header": {"X-API-Key": api_key},
    }
    for how, headers in ways.items():
        for method, path, body in ENDPOINTS:
            response = _send(client, method, path, body, headers)
            assert response.status_code == 200, (how, path)
            envelope = response.json()
            assert envelope["code"] == 401 and envelope["data"] is None, (how, path, envelope)
            assert envelope["msg"].startswith("You do not have access permissions: "), envelope


def test_a_bare_key_in_authorization_is_accepted(client, api_key):
    response = client.get("/api/v1/common/credit", headers={"Authorization": api_key})
    assert response.json()["code"] == 200
