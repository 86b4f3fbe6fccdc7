"""Schemathesis against our own ``/openapi.json``, as the app serves it, driven in-process.

Every operation we publish gets positive and negative cases (coverage and fuzzing phases); no
response may be a 5xx or fall outside what our own document declares (status code, content
type, headers, body schema), and requests it calls invalid must be refused. The runtime is never
started (no workers, no webhook dispatcher), so no job runs during fuzzing and nothing leaves
the process.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from selfjourney.app import build_runtime, create_app
from tests.conftest import make_settings

VENDOR_CONTRACT = Path(__file__).parent / "apiframe-v2-openapi.json"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

CONFIG: dict[str, Any] = {
    "seed": 20240601,
    "generation": {
        "mode": "all",
        "max-examples": 50,
        "deterministic": True,
        "database": "none",
        # The test sends the key on every case.
        "with-security-parameters": False,
    },
    "phases": {"stateful": {"enabled": False}},
}


class OwnApp:
    """The app (lifespan refused) over a fresh database, and a funded key."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.headers = {"X-API-Key": key}


@pytest.fixture
def own(tmp_path: Path) -> Iterator[OwnApp]:
    settings = make_settings(tmp_path / "data", webhook_allow_private=False)
    runtime = build_runtime(settings)
    _, key = runtime.store.accounts.create("own-openapi", credits=10**9)
    app = create_app(settings, runtime)
    # One COMPLETED job, so the list renders a real result. The TestClient is never entered, so
    # the app's lifespan (workers, webhook dispatcher) does not start; ``drain`` runs the job.
    response = TestClient(app).post(
        "/v2/images/generate",
        headers={"X-API-Key": key},
        json={"model": "midjourney", "prompt": "a lighthouse at dusk"},
    )
    assert response.status_code == 202, response.text
    runtime.queue.drain()
    try:
        yield OwnApp(_without_lifespan(app), key)
    finally:
        runtime.stop()


def _without_lifespan(app: Any) -> Any:
    """The app with its lifespan refused, so schemathesis does not start the runtime."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return  # an app that returns at once has no lifespan support (ASGI spec)
        await app(scope, receive, send)

    return asgi


def _served_openapi() -> dict[str, Any]:
    """The document ``GET /openapi.json`` serves, from a throwaway app (collection needs it).

    ``schemathesis.pytest.from_fixture`` would load it per test, but schemathesis 4.32 reads
    ``request.node._nodeid``, which pytest 9 no longer has.
    """
    with tempfile.TemporaryDirectory() as data_dir:
        settings = make_settings(Path(data_dir))
        runtime = build_runtime(settings)
        try:
            response = TestClient(create_app(settings, runtime)).get("/openapi.json")
        finally:
            runtime.stop()
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


SERVED = _served_openapi()
#: The Apiframe v2 routes; the other dialects fuzz their own (tests/midapi, tests/apiframe_v1),
#: since midapi answers HTTP 200 to every request by design.
schema = schemathesis.openapi.from_dict(
    SERVED, config=schemathesis.Config.from_dict(CONFIG)
).include(path_regex="^/v2/")


def _operations(document: dict[str, Any]) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method in methods
    }


def test_we_publish_the_vendor_operations():
    """Our /v2 surface is the contract's Midjourney paths: none missing, none extra."""
    ours = {op for op in _operations(SERVED) if " /v2/" in op}
    assert ours == _operations(json.loads(VENDOR_CONTRACT.read_text()))


@schema.parametrize()
# One app and database per operation, shared by its examples on purpose: jobs pile up as a
# client's would.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_conforms_to_own_openapi(case: schemathesis.Case[Any], own: OwnApp):
    response = case.call(app=own.app, headers=own.headers)
    case.validate_response(response, checks=CHECKS)
