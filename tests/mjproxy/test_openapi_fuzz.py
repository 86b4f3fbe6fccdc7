"""Schemathesis over our own ``/openapi.json``, restricted to the midjourney-proxy routes.

Every generated request, valid or not, must get JSON in the shape the document declares and
never a server error: refusals are the submit envelope (HTTP 200, 400, 401 or 404), reads the
task object or an array of them. The runtime is never started, so no job runs and nothing
leaves the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.fuzzing import funded_app, fuzz_config, served_openapi, without_lifespan

CONFIG = fuzz_config(max_examples=10)
ENVELOPE = {"code", "description", "result", "properties"}


class Fuzzed:
    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.headers = {"mj-api-secret": key}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """One app for every operation (building one costs more than fuzzing a route)."""
    with funded_app(tmp_path_factory.mktemp("fuzz") / "data", "fuzz") as (_, app, key):
        yield Fuzzed(without_lifespan(app), key)


SERVED = served_openapi()
MJ_PATHS = sorted(p for p in SERVED["paths"] if p.startswith("/mj/"))
schema = schemathesis.openapi.from_dict(
    SERVED, config=schemathesis.Config.from_dict(CONFIG)
).include(path_regex="^/mj/")


def test_we_publish_every_midjourney_proxy_route():
    """Documented once, under /mj; the speed prefixes serve the same routes."""
    assert MJ_PATHS == [
        "/mj/insight-face/swap",
        "/mj/submit/action",
        "/mj/submit/blend",
        "/mj/submit/change",
        "/mj/submit/describe",
        "/mj/submit/edit",
        "/mj/submit/edits",
        "/mj/submit/imagine",
        "/mj/submit/modal",
        "/mj/submit/retexture",
        "/mj/submit/shorten",
        "/mj/submit/simple-change",
        "/mj/submit/upload-discord-images",
        "/mj/submit/video",
        "/mj/task/list",
        "/mj/task/list-by-condition",
        "/mj/task/list-by-ids",
        "/mj/task/queue",
        "/mj/task/{id}/cancel",
        "/mj/task/{id}/fetch",
        "/mj/task/{id}/image-seed",
    ]
    assert not any(p.startswith(("/mj-fast", "/{speed")) for p in SERVED["paths"])


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_no_generated_request_is_a_server_error(case: schemathesis.Case[Any], fuzzed: Fuzzed):
    response = case.call(app=fuzzed.app, headers=fuzzed.headers)
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    if response.status_code == 405:  # the coverage phase also tries methods a path lacks
        return
    case.validate_response(response, checks=checks)
    assert response.status_code in (200, 400, 401, 404), response.text
    body = response.json()
    if response.status_code != 200:
        assert set(body) == ENVELOPE and body["code"] in (3, 4), body
