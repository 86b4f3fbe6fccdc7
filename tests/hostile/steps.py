"""What every hostile-input test checks after a refusal: nothing charged, no job made."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def balance(client: TestClient, api_key: str) -> int:
    """The key's credits, read through Apiframe v2 (any dialect's key is the same account)."""
    response = client.get("/v2/me", headers={"X-API-Key": api_key})
    assert response.status_code == 200, response.text
    credits: int = response.json()["team"]["credits"]
    return credits


def job_ids(client: TestClient, api_key: str) -> list[str]:
    """Every job of the key, newest first, whichever dialect made it."""
    response = client.get("/v2/jobs", params={"limit": 100}, headers={"X-API-Key": api_key})
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["jobs"]]


class Account:
    """Balance and jobs before a refused request, to compare with afterwards."""

    def __init__(self, client: TestClient, api_key: str) -> None:
        self.client = client
        self.api_key = api_key
        self.credits = balance(client, api_key)
        self.jobs = job_ids(client, api_key)

    def unchanged(self) -> None:
        """Nothing was charged and no job was created since this snapshot."""
        assert balance(self.client, self.api_key) == self.credits, "the refusal was charged"
        assert job_ids(self.client, self.api_key) == self.jobs, "the refusal created a job"


def v2_refused(response: Any, field: str) -> list[str]:
    """Apiframe v2's validation envelope, a 400 naming ``field``; its messages."""
    assert response.status_code == 400, (response.status_code, response.text)
    body = response.json()
    assert body["error"] == "Validation error", body
    assert field in body["details"], body
    messages: list[str] = body["details"][field]
    assert messages and all(isinstance(m, str) and m for m in messages), body
    return messages


def v1_refused(response: Any, field: str) -> str:
    """Apiframe v1's 400 INVALID_REQUEST naming ``field``; its message."""
    assert response.status_code == 400, (response.status_code, response.text)
    body = response.json()
    assert body["code"] == "INVALID_REQUEST", body
    assert any(e.get("path") == field for e in body["errors"]), body
    message: str = body["message"]
    return message


def midapi_refused(response: Any, code: int = 422) -> str:
    """midapi's refusal: HTTP 200, ``{"code", "msg", "data": null}``; its msg."""
    assert response.status_code == 200, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"code", "msg", "data"}, body
    assert body["code"] == code and body["data"] is None, body
    msg: str = body["msg"]
    return msg
