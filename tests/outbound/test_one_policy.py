"""One outbound policy for every URL a caller gives: one setting (with its old name as an
alias), and a refusal that names what was actually fetched, not "webhookUrl"."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from selfjourney.config import Settings
from selfjourney.embedded import build_embedded
from selfjourney.outbound.guard import guarded_client
from tests.conftest import make_settings
from tests.flows import drain
from tests.midapi.fakes import SmallEngine

HOST = "images.example.test"


@pytest.mark.parametrize(
    ("env", "allowed"),
    [
        ({}, False),
        ({"SELFJOURNEY_ALLOW_PRIVATE_URLS": "1"}, True),
        ({"SELFJOURNEY_WEBHOOK_ALLOW_PRIVATE": "1"}, True),  # the old name still works
        ({"SELFJOURNEY_WEBHOOK_ALLOW_PRIVATE": "0"}, False),
    ],
)
def test_one_setting_allows_private_urls(monkeypatch, env, allowed):
    for name in ("SELFJOURNEY_ALLOW_PRIVATE_URLS", "SELFJOURNEY_WEBHOOK_ALLOW_PRIVATE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings.model_validate({}).allow_private_urls is allowed


def _loopback(_host: str, _port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """A resolver whose every answer is this machine: a DNS name that points inside."""
    return [ipaddress.ip_address("127.0.0.1")]


@pytest.fixture
def strict_client(tmp_path: Path):
    """The production policy, with a host name that resolves to loopback when fetched."""
    settings = make_settings(tmp_path / "data", allow_private_urls=False)
    runtime = build_embedded(
        settings, engine=SmallEngine(), fetch_client=guarded_client(False, 5, resolve=_loopback)
    )
    _, key = runtime.store.accounts.create("t", credits=1000)
    with TestClient(runtime.app()) as client:
        yield client, key


def _failed(client: TestClient, key: str, job_id: str) -> dict[str, Any]:
    drain(client)
    job: dict[str, Any] = client.get(f"/v2/jobs/{job_id}", headers={"X-API-Key": key}).json()
    assert job["status"] == "FAILED", job
    return job


def test_a_reference_image_that_resolves_inside_names_the_reference(strict_client):
    client, key = strict_client
    url = f"https://{HOST}/fox.png"
    body = {"taskType": "mj_img2img", "prompt": "a fox", "fileUrls": [url]}
    created = client.post(
        "/api/v1/mj/generate", json=body, headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert created["code"] == 200, created
    job = _failed(client, key, created["data"]["taskId"])
    assert job["error"] == (
        f"Reference image unusable: {url} is not allowed: "
        f"host {HOST} resolves to a loopback address 127.0.0.1"
    )
    assert "webhook" not in job["error"].lower() and job["creditCost"] == 0


def test_an_image_to_upscale_that_resolves_inside_names_image_url(strict_client):
    client, key = strict_client
    url = f"https://{HOST}/big.png"
    created = client.post(
        "/upscale-highres", json={"image_url": url, "type": "2x"}, headers={"Authorization": key}
    ).json()
    job = _failed(client, key, created["task_id"])
    assert job["error"] == (
        f"image_url unusable: {url} is not allowed: "
        f"host {HOST} resolves to a loopback address 127.0.0.1"
    )
