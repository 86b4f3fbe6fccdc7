"""Schemathesis against our own ``/openapi.json``, as the app serves it, driven in-process.

Every operation we publish gets positive and negative cases (coverage and fuzzing phases); no
response may be a 5xx or fall outside what our own document declares (status code, content
type, headers, body schema), and requests it calls invalid must be refused. The runtime is never
started (no workers, no webhook dispatcher), so no job runs during fuzzing and nothing leaves
the process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from tests.fuzzing import CHECKS, funded_app, fuzz_config, served_openapi, without_lifespan

VENDOR_CONTRACT = Path(__file__).parent / "apiframe-v2-openapi.json"


CONFIG = fuzz_config(max_examples=50)


class OwnApp:
    """The app (lifespan refused) over a fresh database, and a funded key."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.headers = {"X-API-Key": key}


@pytest.fixture
def own(tmp_path: Path) -> Iterator[OwnApp]:
    with funded_app(tmp_path / "data", "own-openapi") as (runtime, app, key):
        # One COMPLETED job, so the list renders a real result. The TestClient is never
        # entered, so the app's lifespan (workers, webhook dispatcher) does not start;
        # ``drain`` runs the job.
        response = TestClient(app).post(
            "/v2/images/generate",
            headers={"X-API-Key": key},
            json={"model": "midjourney", "prompt": "a lighthouse at dusk"},
        )
        assert response.status_code == 202, response.text
        runtime.queue.drain()
        yield OwnApp(without_lifespan(app), key)


SERVED = served_openapi()
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


#: Operations we add to the vendor's /v2 surface: the job's event stream (Server-Sent Events).
OUR_V2_OPERATIONS = {"GET /v2/jobs/{id}/events", "POST /v2/jobs/{id}/cancel"}


def test_we_publish_the_vendor_operations():
    """Our /v2 surface is the contract's Midjourney paths plus the event stream: none missing,
    no other extra."""
    ours = {op for op in _operations(SERVED) if " /v2/" in op}
    assert ours == _operations(json.loads(VENDOR_CONTRACT.read_text())) | OUR_V2_OPERATIONS


@schema.parametrize()
# One app and database per operation, shared by its examples on purpose: jobs pile up as a
# client's would.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_conforms_to_own_openapi(case: schemathesis.Case[Any], own: OwnApp):
    response = case.call(app=own.app, headers=own.headers)
    case.validate_response(response, checks=CHECKS)
