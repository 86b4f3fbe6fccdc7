"""CORS for the browser clients that call /mj directly (spec §1.3), and only for /mj."""

from __future__ import annotations

PREFLIGHT = {
    "Origin": "https://chat.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "mj-api-secret, content-type, authorization",
}


def test_preflights_are_answered_under_every_prefix(client):
    for path in (
        "/mj/submit/imagine",
        "/mj-fast/mj/submit/action",
        "/mj-relax/mj/task/list-by-condition",
        "/mj-turbo/mj/submit/modal",
        "/mj/task/some-id/fetch",
    ):
        response = client.options(path, headers=PREFLIGHT)
        assert response.status_code in (200, 204), path
        assert response.headers["access-control-allow-origin"] == "*"
        allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
        assert {"mj-api-secret", "content-type", "authorization"} <= {h.lower() for h in allowed}
        assert {"GET", "POST"} <= set(response.headers["access-control-allow-methods"].split(", "))


def test_real_answers_carry_the_origin_header_refusals_too(client, secret, grid):
    origin = {"Origin": "https://chat.example"}
    found = client.get(f"/mj/task/{grid['id']}/fetch", headers={**secret, **origin})
    unauthorised = client.post("/mj/submit/imagine", json={"prompt": "a"}, headers=origin)
    for response in (found, unauthorised):
        assert response.headers["access-control-allow-origin"] == "*"
    assert unauthorised.status_code == 401


def test_other_dialects_stay_without_cors(client, api_key):
    response = client.options("/v2/images/generate", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in response.headers
    me = client.get("/v2/me", headers={"X-API-Key": api_key, "Origin": "https://chat.example"})
    assert me.status_code == 200 and "access-control-allow-origin" not in me.headers
