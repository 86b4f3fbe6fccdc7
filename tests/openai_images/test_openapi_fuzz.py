"""Schemathesis over our own ``/openapi.json``, restricted to the OpenAI dialect's routes.

Unlike the other dialects' fuzz runs, a worker thread renders (small grids): a valid request
waits for its job, so the synchronous path itself is fuzzed, streaming included. No generated
request, valid or not, may get a server error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from selfjourney.embedded import build_embedded
from tests.conftest import make_settings
from tests.fuzzing import fuzz_config, served_openapi, without_lifespan
from tests.midapi.fakes import SmallEngine

CONFIG = fuzz_config(max_examples=15)


class Fuzzed:
    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.headers = {"Authorization": f"Bearer {key}"}


@pytest.fixture
def fuzzed(tmp_path: Path) -> Iterator[Fuzzed]:
    """A funded key on a runtime whose worker renders (started here, not by the lifespan)."""
    values: dict[str, Any] = {"workers": 1, "allow_private_urls": False, "openai_timeout": 60}
    runtime = build_embedded(make_settings(tmp_path / "data", **values), engine=SmallEngine())
    _, key = runtime.store.accounts.create("fuzz", credits=10**9)
    runtime.start()
    try:
        yield Fuzzed(without_lifespan(runtime.app()), key)
    finally:
        runtime.stop()


SERVED = served_openapi()
schema = schemathesis.openapi.from_dict(
    SERVED, config=schemathesis.Config.from_dict(CONFIG)
).include(path_regex="^/v1/")


def test_we_publish_every_openai_route():
    paths = {path: sorted(ops) for path, ops in SERVED["paths"].items() if path.startswith("/v1/")}
    assert paths == {
        "/v1/images/generations": ["post"],
        "/v1/images/edits": ["post"],
        "/v1/images/variations": ["post"],
        "/v1/models": ["get"],
        "/v1/models/{model}": ["get"],
    }


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_no_generated_request_is_a_server_error(case: schemathesis.Case[Any], fuzzed: Fuzzed):
    response = case.call(app=fuzzed.app, headers=fuzzed.headers)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance]
    case.validate_response(response, checks=checks)
