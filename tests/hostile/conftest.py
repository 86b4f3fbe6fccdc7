"""Fixtures for the hostile-input tests: the app as a client sees it (a server bug is a 500
answer, not an exception raised into the test), small grids, and the key in each dialect's
header."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from selfjourney.config import Settings
from selfjourney.embedded import Embedded, build_embedded
from tests.midapi.fakes import SmallEngine
from tests.receiver import WebhookReceiver


@pytest.fixture
def runtime(settings: Settings) -> Embedded:
    """Grids drawn small (see ``SmallEngine``): these tests are about the API, not pictures."""
    return build_embedded(settings, engine=SmallEngine())


@pytest.fixture
def client(runtime: Embedded) -> Iterator[TestClient]:
    """Unhandled server errors come back as the HTTP 500 a real client would get."""
    app = runtime.app()
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def v1(api_key: str) -> dict[str, str]:
    """Apiframe v1's header: ``Authorization: <key>``."""
    return {"Authorization": api_key}


@pytest.fixture
def bearer(api_key: str) -> dict[str, str]:
    """midapi's header: ``Authorization: Bearer <key>``."""
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r
