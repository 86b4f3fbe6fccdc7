"""midjourney-proxy fixtures: small grids, Lanczos upscales, the key in ``mj-api-secret``, a
finished grid and its upsample, a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from selfjourney.config import Settings
from selfjourney.embedded import Embedded, build_embedded
from tests.conftest import make_settings
from tests.mjproxy.fakes import TinyEngine
from tests.mjproxy.steps import finished, press, submit
from tests.receiver import WebhookReceiver


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Upscales by Lanczos: these tests are about the API, not super-resolution."""
    return make_settings(tmp_path / "data", upscaler="lanczos")


@pytest.fixture
def runtime(settings: Settings) -> Embedded:
    """Grids drawn small; a prompt containing "explode" fails its render."""
    return build_embedded(settings, engine=TinyEngine())


@pytest.fixture
def client(runtime: Embedded) -> Iterator[TestClient]:
    """Server bugs come back as the answer a real client would get."""
    with TestClient(runtime.app(), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def secret(api_key: str) -> dict[str, str]:
    """The header new-api and the Dooy client send."""
    return {"mj-api-secret": api_key}


@pytest.fixture
def grid(client: TestClient, secret: dict[str, str]) -> dict[str, Any]:
    """A finished imagine task (1:1)."""
    return finished(client, secret, submit(client, secret, prompt="a lighthouse on a cliff"))


@pytest.fixture
def upsample(client: TestClient, secret: dict[str, str], grid: dict[str, Any]) -> dict[str, Any]:
    """The finished U2 of ``grid``."""
    return finished(client, secret, press(client, secret, grid, "U2"))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r
