"""Bad input, keys and parents: always the v1 JSON envelope, never a charge."""

from __future__ import annotations

from tests.apiframe_v1.flows import credits, refused, submit
from tests.flows import drain

UNKNOWN = "00000000-0000-4000-8000-000000000000"
SUBMITS = ["/imagine", "/upscale-1x", "/variations", "/reroll", "/inpaint", "/outpaint", "/pan"]
PRO_POSTS = [
    f"/pro/midjourney/{p}" for p in ("imagine", "variations", "vary", "upscale", "pan", "zoom")
]
ALL_POSTS = [
    *SUBMITS,
    "/upscale-alt",
    "/upscale-highres",
    "/seed",
    "/fetch",
    "/fetch-many",
    *PRO_POSTS,
]


def test_no_or_unknown_key_is_a_json_401(client):
    for path in ALL_POSTS:
        for header in (
            {},
            {"Authorization": ""},
            {"Authorization": "Bearer "},
            {"Authorization": "x"},
        ):
            response = client.post(path, json={}, headers=header)
            refused(response, 401, "AUTHENTICATION_ERROR")
    refused(client.get("/account"), 401, "AUTHENTICATION_ERROR")


def test_the_key_works_bare_and_as_bearer(client, api_key):
    for value in (api_key, f"Bearer {api_key}", f"bearer  {api_key}"):
        assert client.get("/account", headers={"Authorization": value}).status_code == 200


def test_a_revoked_key_is_a_401(client, runtime, auth, api_key):
    runtime.store.accounts.set_active(runtime.store.accounts.find(api_key).id, False)
    body = refused(client.get("/account", headers=auth), 401, "AUTHENTICATION_ERROR")
    assert body["message"] == "API key is inactive"


def test_a_body_that_is_not_a_json_object_is_a_json_400(client, auth):
    for content, kind, message in [
        (b"prompt=a+fox", "application/x-www-form-urlencoded", "Content-Type: application/json"),
        (b"{not json", "application/json", "not valid JSON"),
        (b"", "application/json", "JSON request body is required"),
        (b"[1, 2]", "application/json", "JSON object"),
        (b'"a fox"', "application/json", "JSON object"),
        (b"\xff\xfe", "text/plain", "Content-Type: application/json"),
    ]:
        for path in ALL_POSTS:
            response = client.post(path, content=content, headers={**auth, "Content-Type": kind})
            assert message in refused(response, 400, "INVALID_REQUEST")["message"], path


def test_a_400_names_every_bad_field(client, auth):
    response = client.post("/inpaint", json={"parent_task_id": "x"}, headers=auth)
    body = refused(response, 400, "INVALID_REQUEST")
    assert {e["path"] for e in body["errors"]} == {"parent_task_id", "mask", "prompt"}
    assert all(e["location"] == "body" for e in body["errors"])
    assert body["message"].startswith("parent_task_id: ")


def test_a_bad_prompt_is_a_400(client, auth):
    for prompt in ["", "a fox --ar 0:1", "a fox --ar 4:1", "a fox --seed -1", "x" * 4001, None, 7]:
        response = client.post("/imagine", json={"prompt": prompt}, headers=auth)
        error = refused(response, 400, "INVALID_REQUEST")
        assert error["errors"][0]["path"] == "prompt", prompt


def test_a_bad_aspect_ratio_is_a_400(client, auth):
    response = client.post("/imagine", json={"prompt": "a", "aspect_ratio": "5:1"}, headers=auth)
    body = refused(response, 400, "INVALID_REQUEST")
    assert body["errors"][0]["path"] == "aspect_ratio" and "1:3 to 3:1" in body["message"]


def test_an_unknown_parent_is_a_404_and_free(client, auth, runtime):
    _, other = runtime.store.accounts.create("other", credits=100)
    theirs = submit(client, {"Authorization": other}, "/imagine", prompt="theirs")
    drain(client)
    cases: list[tuple[str, dict[str, object]]] = [
        ("/upscale-1x", {"index": "1"}),
        ("/variations", {"index": "1"}),
        ("/reroll", {}),
        ("/inpaint", {"mask": "AAAA", "prompt": "x"}),
        ("/outpaint", {"zoom_ratio": 2}),
        ("/pan", {"direction": "up"}),
    ]
    for path, extra in cases:
        for parent in (UNKNOWN, theirs):  # another key's task is reported the same way
            response = client.post(path, json={"parent_task_id": parent, **extra}, headers=auth)
            assert parent in refused(response, 404, "NOT_FOUND")["message"], path
    assert credits(client, auth) == 1000


def test_a_parent_still_rendering_is_a_409(client, auth):
    grid = submit(client, auth, "/imagine", prompt="a fox")
    response = client.post("/upscale-1x", json={"parent_task_id": grid, "index": 1}, headers=auth)
    assert "QUEUED" in refused(response, 409, "ACTION_UNAVAILABLE")["message"]
    assert credits(client, auth) == 1000 - 16


def test_the_wrong_kind_of_parent_is_a_400(client, auth, grid, upscale):
    cases: list[tuple[str, str, dict[str, object]]] = [
        ("/upscale-1x", upscale, {"index": 1}),
        ("/reroll", upscale, {}),
        ("/pan", grid, {"direction": "up"}),
        ("/outpaint", grid, {"zoom_ratio": 2}),
    ]
    for path, parent, extra in cases:
        response = client.post(path, json={"parent_task_id": parent, **extra}, headers=auth)
        refused(response, 400, "INVALID_PARENT")


def test_unknown_or_malformed_task_ids(client, auth):
    for path in ("/fetch", "/seed"):
        refused(client.post(path, json={"task_id": UNKNOWN}, headers=auth), 404, "NOT_FOUND")
        response = client.post(path, json={"task_id": "abc"}, headers=auth)
        assert refused(response, 400, "INVALID_REQUEST")["errors"][0]["path"] == "task_id"


def test_insufficient_credits_is_a_402_and_nothing_moves(client, runtime):
    _, poor = runtime.store.accounts.create("poor", credits=15)
    auth = {"Authorization": poor}
    body = refused(
        client.post("/imagine", json={"prompt": "a fox"}, headers=auth), 402, "INSUFFICIENT_CREDITS"
    )
    assert body["credits_required"] == 16 and body["credits_available"] == 15
    assert credits(client, auth) == 15
    assert client.get("/account", headers=auth).json()["total_images"] == 0


def test_upscale_alt_and_highres_need_a_known_parent(client, auth, headers):
    for path, body in [
        ("/upscale-alt", {"type": "subtle"}),
        ("/upscale-alt", {"type": "creative"}),
        ("/upscale-highres", {"type": "2x"}),
        ("/upscale-highres", {"type": "4x", "index": "1"}),
    ]:
        response = client.post(path, json={"parent_task_id": UNKNOWN, **body}, headers=auth)
        refused(response, 404, "NOT_FOUND")
    assert credits(client, auth) == 1000
    assert client.get("/v2/jobs", headers=headers).json()["jobs"] == []  # no job was made


def test_upscale_highres_needs_exactly_one_of_parent_and_image_url(client, auth, headers):
    for body, field, words in [
        ({"type": "2x"}, "parent_task_id", "send parent_task_id"),
        ({"type": "4x", "index": "1", "image_url": None}, "parent_task_id", "or image_url"),
        (
            {"type": "2x", "parent_task_id": UNKNOWN, "image_url": "https://example.com/a.png"},
            "image_url",
            "not both",
        ),
    ]:
        response = client.post("/upscale-highres", json=body, headers=auth)
        error = refused(response, 400, "INVALID_REQUEST")
        assert error["errors"][0]["path"] == field and words in error["message"], body
    assert credits(client, auth) == 1000
    assert client.get("/v2/jobs", headers=headers).json()["jobs"] == []


def test_upscale_alt_checks_its_fields_first(client, auth):
    response = client.post(
        "/upscale-alt", json={"parent_task_id": UNKNOWN, "type": "huge"}, headers=auth
    )
    assert refused(response, 400, "INVALID_REQUEST")["errors"][0]["path"] == "type"


def test_bad_webhook_fields_are_a_400(client, auth):
    for url, secret, field in [
        ("not a url", None, "webhook_url"),
        ("https://example.com/h", "line\nbreak", "webhook_secret"),
        ("https://x.io", "", "webhook_secret"),
        ("https://x.io", "\u00e9t\u00e9", "webhook_secret"),
    ]:
        body = {"prompt": "a fox", "webhook_url": url, "webhook_secret": secret}
        response = client.post("/imagine", json=body, headers=auth)
        assert refused(response, 400, "INVALID_REQUEST")["errors"][0]["path"] == field, field
    assert credits(client, auth) == 1000
