"""Schemathesis against the v1 operations of our own ``/openapi.json``, driven in-process.

Positive and negative cases for every v1 path: no 5xx (except the 501 that
/upscale-highres and /outpaint's ``aspect_ratio`` declare), every response as documented,
and every request the document calls invalid refused. The runtime is never started.
"""

from __future__ import annotations

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

V1_PATHS = {
    "/imagine",
    "/upscale-1x",
    "/variations",
    "/reroll",
    "/inpaint",
    "/outpaint",
    "/pan",
    "/upscale-alt",
    "/upscale-highres",
    "/seed",
    "/fetch",
    "/fetch-many",
    "/account",
}
#: Operations whose documented answer to a valid request may be "not implemented here".
UNSUPPORTED = {"/upscale-highres", "/outpaint"}

CONFIG: dict[str, Any] = {
    "seed": 20240601,
    "generation": {
        "mode": "all",
        "max-examples": 15,
        "deterministic": True,
        "database": "none",
        "with-security-parameters": False,
    },
    "phases": {"stateful": {"enabled": False}},
}


def no_undeclared_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """``not_a_server_error``, except a declared 501 with the v1 NOT_IMPLEMENTED code."""
    if response.status_code == 501 and case.operation.path in UNSUPPORTED:
        assert response.json()["code"] == "NOT_IMPLEMENTED"
        return None
    result: bool | None = not_a_server_error(ctx, response, case)
    return result


CHECKS = [
    no_undeclared_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


class OwnApp:
    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.headers = {"Authorization": key}


@pytest.fixture
def own(tmp_path: Path) -> Iterator[OwnApp]:
    settings = make_settings(tmp_path / "data", webhook_allow_private=False)
    runtime = build_runtime(settings)
    _, key = runtime.store.accounts.create("own-openapi-v1", credits=10**9)
    app = create_app(settings, runtime)
    try:  # the lifespan never starts: no worker renders what the fuzzer submits
        yield OwnApp(_without_lifespan(app), key)
    finally:
        runtime.stop()


def _without_lifespan(app: Any) -> Any:
    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        await app(scope, receive, send)

    return asgi


def _v1_openapi() -> dict[str, Any]:
    """The served document, cut down to the v1 paths."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = make_settings(Path(data_dir))
        runtime = build_runtime(settings)
        try:
            response = TestClient(create_app(settings, runtime)).get("/openapi.json")
        finally:
            runtime.stop()
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    document["paths"] = {p: ops for p, ops in document["paths"].items() if p in V1_PATHS}
    return document


SERVED = _v1_openapi()
schema = schemathesis.openapi.from_dict(SERVED, config=schemathesis.Config.from_dict(CONFIG))


def test_we_publish_every_v1_operation():
    assert set(SERVED["paths"]) == V1_PATHS
    assert SERVED["paths"]["/account"].keys() == {"get"}


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_v1_conforms_to_own_openapi(case: schemathesis.Case[Any], own: OwnApp):
    response = case.call(app=own.app, headers=own.headers)
    case.validate_response(response, checks=CHECKS)
