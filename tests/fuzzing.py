"""What every schemathesis run of our own OpenAPI shares: settings, the document, a funded app."""

from __future__ import annotations

import copy
import functools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from selfjourney.embedded import Embedded, build_embedded
from tests.conftest import make_settings

#: Every response checked: no server error, and everything as the document declares.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def fuzz_config(max_examples: int) -> dict[str, Any]:
    """Deterministic positive and negative cases; the tests send the key themselves."""
    return {
        "seed": 20240601,
        "generation": {
            "mode": "all",
            "max-examples": max_examples,
            "deterministic": True,
            "database": "none",
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
    }


def without_lifespan(app: Any) -> Any:
    """The app with its lifespan refused, so schemathesis does not start the runtime."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return  # an app that returns at once has no lifespan support (ASGI spec)
        await app(scope, receive, send)

    return asgi


def served_openapi() -> dict[str, Any]:
    """The document ``GET /openapi.json`` serves: a private copy, since schemathesis edits it."""
    return copy.deepcopy(_served_openapi())


@functools.cache
def _served_openapi() -> dict[str, Any]:
    """Built once, from a throwaway app."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = make_settings(Path(data_dir))
        runtime = build_embedded(settings)
        try:
            response = TestClient(runtime.app()).get("/openapi.json")
        finally:
            runtime.stop()
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


@contextmanager
def funded_app(data_dir: Path, name: str) -> Iterator[tuple[Embedded, Any, str]]:
    """A runtime, its app (lifespan never started: nothing renders) and a key with credits."""
    settings = make_settings(data_dir, allow_private_urls=False)
    runtime = build_embedded(settings)
    _, key = runtime.store.accounts.create(name, credits=10**9)
    try:
        yield runtime, runtime.app(), key
    finally:
        runtime.stop()
