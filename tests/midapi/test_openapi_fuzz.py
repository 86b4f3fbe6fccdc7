"""Schemathesis over our own ``/openapi.json``, restricted to the midapi routes.

midapi answers HTTP 200 to every request (the status is the body's ``code``), so the only
check that means something here is that nothing is a server error: every generated body, valid
or not, must get an envelope. The runtime is never started, so no job runs and nothing leaves
the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.fuzzing import funded_app, fuzz_config, served_openapi, without_lifespan

CONFIG = fuzz_config(max_examples=20)


class Fuzzed:
    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.headers = {"Authorization": f"Bearer {key}"}


@pytest.fixture
def fuzzed(tmp_path: Path) -> Iterator[Fuzzed]:
    with funded_app(tmp_path / "data", "fuzz") as (_, app, key):
        yield Fuzzed(without_lifespan(app), key)


SERVED = served_openapi()
MIDAPI_PATHS = sorted(p for p in SERVED["paths"] if p.startswith("/api/v1/"))
schema = schemathesis.openapi.from_dict(
    SERVED, config=schemathesis.Config.from_dict(CONFIG)
).include(path_regex="^/api/v1/")


def test_we_publish_every_midapi_route():
    assert MIDAPI_PATHS == [
        "/api/v1/chat/credit",
        "/api/v1/common/credit",
        "/api/v1/common/download-url",
        "/api/v1/mj/generate",
        "/api/v1/mj/generateUpscale",
        "/api/v1/mj/generateVary",
        "/api/v1/mj/record-info",
        "/api/v1/mj/upscale",
    ]


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_no_generated_request_is_a_server_error(case: schemathesis.Case[Any], fuzzed: Fuzzed):
    response = case.call(app=fuzzed.app, headers=fuzzed.headers)
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code != 405:  # the coverage phase also tries methods a path lacks
        assert response.status_code == 200
        assert set(response.json()) == {"code", "msg", "data"}
