"""Schemathesis against the vendor's Apiframe v2 contract, driving our app in-process.

Every operation of ``apiframe-v2-openapi.json`` (an in-repo copy of the vendor contract) gets
positive and negative cases (coverage and fuzzing phases). No response may be a 5xx or fall
outside the contract: status code, content type, headers, body schema, and invalid requests
must be refused. One deviation is allowed, on purpose:

* ``POST /v2/images/midjourney/action`` answers 404 for an unknown or foreign parent job and
  409 for a parent that is not COMPLETED (or a reused Idempotency-Key), and
  ``POST /v2/images/generate`` answers 409 for a reused Idempotency-Key. The contract's
  operations declare none of these, though the vendor's prose and SDK do (spec §7). Exactly
  those statuses are allowed on exactly those operations, and their bodies must still be
  ``{"error": "<string>"}`` JSON.

Actions only get past 404 with a real parent, so each test seeds a COMPLETED grid, a COMPLETED
upsample of it and a QUEUED grid, and the generator sometimes puts a placeholder id where a job
id goes (``parentJobId``, the ``{id}`` of ``GET /v2/jobs/{id}``, ``search``), which the test
swaps for a seeded job's id before sending.

Two product bugs this file found (``models: null`` in job lists; explicit nulls accepted in
optional request fields) are fixed and pinned by the focused tests at the bottom.

The runtime is never started: there are no worker threads and no webhook dispatcher, and jobs
only run when seeding drains the queue (before fuzzing, with no webhook). So nothing here can
reach the network whatever ``webhookUrl`` a case carries; teardown checks no delivery was queued.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    status_code_conformance,
)

from selfjourney.embedded import Embedded, build_embedded
from tests.conftest import make_settings
from tests.fuzzing import CHECKS, fuzz_config, without_lifespan

CONTRACT = Path(__file__).parent / "apiframe-v2-openapi.json"
DOCUMENT: dict[str, Any] = json.loads(CONTRACT.read_text())
GENERATE = "POST /v2/images/generate"
ACTION = "POST /v2/images/midjourney/action"
JOBS = "GET /v2/jobs"
JOB = "GET /v2/jobs/{id}"
ME = "GET /v2/me"

#: Statuses we answer that the contract does not declare, per operation (see module docstring).
UNDECLARED: dict[str, frozenset[int]] = {
    ACTION: frozenset({404, 409}),
    GENERATE: frozenset({409}),
}

#: Statuses each operation must have produced at least once, proof that the seeding works.
MUST_REACH: dict[str, frozenset[int]] = {
    ACTION: frozenset({202, 409}),
    JOB: frozenset({200}),
}


# The test sends the key on every case; missing and wrong keys have their own test.
CONFIG = schemathesis.Config.from_dict(fuzz_config(max_examples=50))
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

#: Stand-ins the generator may put where a job id goes; ``_resolve`` swaps them for the ids of
#: the jobs seeded for the test. Only a value that is already a valid UUID is replaced, and by
#: another UUID, so a negative case stays negative for the same reason.
PLACEHOLDERS = {
    "grid": "00000000-0000-4000-8000-000000000001",
    "upsample": "00000000-0000-4000-8000-000000000002",
    "queued": "00000000-0000-4000-8000-000000000003",
}


class Api:
    """The app (lifespan refused) over a fresh database, a funded key, and any seeded jobs."""

    def __init__(self, runtime: Embedded, key: str) -> None:
        self.runtime = runtime
        self.app = without_lifespan(runtime.app())
        self.headers = {"X-API-Key": key}
        #: Seeded job ids by placeholder name (see ``seeded``).
        self.jobs: dict[str, str] = {}
        #: The fuzzed operation, and the statuses it answered.
        self.operation: str | None = None
        self.statuses: Counter[int] = Counter()

    def check_reached(self) -> None:
        missing = MUST_REACH.get(self.operation or "", frozenset()) - set(self.statuses)
        assert not missing, f"{self.operation} never answered {sorted(missing)}: {self.statuses}"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    # Private and loopback webhook URLs are refused at submission (400), as in production.
    settings = make_settings(tmp_path / "data", allow_private_urls=False)
    runtime = build_embedded(settings)
    _, key = runtime.store.accounts.create("contract", credits=10**9)
    try:
        api = Api(runtime, key)
        yield api
        api.check_reached()
        assert runtime.store.deliveries.pending() == 0, "a webhook delivery was queued"
    finally:
        runtime.stop()


@pytest.fixture
def seeded(api: Api) -> Api:
    """``api`` with a COMPLETED grid, a COMPLETED upsample of it, and a QUEUED grid."""
    # The TestClient is never entered and the app's lifespan is refused anyway, so no worker or
    # webhook dispatcher starts; ``drain`` runs the queued jobs in this thread.
    client = TestClient(api.app, headers=api.headers)
    grid = _accepted(client.post("/v2/images/generate", json=_prompt()))
    api.runtime.queue.drain()
    upsample = {"action": "upsample", "index": 1, "parentJobId": grid}
    upsampled = _accepted(client.post("/v2/images/midjourney/action", json=upsample))
    api.runtime.queue.drain()
    queued = _accepted(client.post("/v2/images/generate", json=_prompt()))
    api.jobs = {"grid": grid, "upsample": upsampled, "queued": queued}
    return api


def _prompt() -> dict[str, Any]:
    return {"model": "midjourney", "prompt": "a lighthouse at dusk"}


def _accepted(response: Any) -> str:
    assert response.status_code == 202, response.text
    job_id: str = response.json()["jobId"]
    return job_id


def _sometimes_seeded(context: schemathesis.HookContext, values: Any, label: str, key: str) -> Any:
    """``values`` as generated, or with the job id at ``key`` swapped for a placeholder."""
    operation = context.operation
    if operation is None or operation.label != label:
        return st.just(values)
    if not isinstance(values, dict) or not _is_uuid(values.get(key)):
        return st.just(values)
    return st.sampled_from([None, *PLACEHOLDERS.values()]).map(
        lambda job_id: values if job_id is None else {**values, key: job_id}
    )


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> Any:
    return _sometimes_seeded(context, body, ACTION, "parentJobId")


@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: Any) -> Any:
    return _sometimes_seeded(context, path_parameters, JOB, "id")


@schema.hook
def flatmap_query(context: schemathesis.HookContext, query: Any) -> Any:
    return _sometimes_seeded(context, query, JOBS, "search")


def _resolve(case: schemathesis.Case[Any], api: Api) -> None:
    """Replace placeholders with the seeded jobs' ids."""
    real = {PLACEHOLDERS[name]: job_id for name, job_id in api.jobs.items()}
    for container in (case.body, case.path_parameters, case.query):
        if not isinstance(container, dict):
            continue
        for key in ("parentJobId", "id", "search"):
            value = container.get(key)
            if isinstance(value, str) and value in real:
                container[key] = real[value]


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _assert_error_envelope(response: schemathesis.Response) -> None:
    assert response.headers.get("content-type") == ["application/json"], response.headers
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body


@schema.parametrize()
# One app and database per operation, shared by its examples on purpose: jobs pile up as a
# client's would, and seeding once per operation keeps the file fast.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_conforms_to_vendor_contract(case: schemathesis.Case[Any], seeded: Api):
    seeded.operation = case.operation.label
    _resolve(case, seeded)
    response = case.call(app=seeded.app, headers=seeded.headers)
    seeded.statuses[response.status_code] += 1
    checks = CHECKS
    if response.status_code in UNDECLARED.get(case.operation.label, frozenset()):
        _assert_error_envelope(response)
        checks = [check for check in CHECKS if check is not status_code_conformance]
    case.validate_response(response, checks=checks)


#: A request for every operation the contract secures, with a plausible body.
SECURED: dict[str, dict[str, Any]] = {
    GENERATE: {"body": _prompt()},
    ACTION: {"body": {"action": "upsample", "index": 1, "parentJobId": PLACEHOLDERS["grid"]}},
    JOBS: {},
    JOB: {"path_parameters": {"id": PLACEHOLDERS["grid"]}},
    ME: {},
}


def test_secured_table_covers_the_contract():
    secured = {
        f"{method.upper()} {path}"
        for path, methods in DOCUMENT["paths"].items()
        for method, operation in methods.items()
        if operation.get("security")
    }
    assert secured == set(SECURED)


@pytest.mark.parametrize("key", [None, "afk_not-a-real-key"], ids=["missing", "wrong"])
@pytest.mark.parametrize("label", sorted(SECURED))
def test_without_a_valid_key_is_401(label: str, key: str | None, api: Api):
    operation = schema.find_operation_by_label(label)
    assert operation is not None
    case = operation.Case(**SECURED[label])
    response = case.call(app=api.app, headers={} if key is None else {"X-API-Key": key})
    assert response.status_code == 401, response.text
    _assert_error_envelope(response)
    case.validate_response(response, checks=CHECKS)


# --- Product bugs the fuzzing above found, pinned one by one ---


@pytest.mark.parametrize("query", [{}, {"include_models": "false"}], ids=["default", "false"])
def test_jobs_list_has_no_models_unless_asked(query: dict[str, str], api: Api):
    client = TestClient(api.app, headers=api.headers)
    response = client.get("/v2/jobs", params=query)
    assert response.status_code == 200, response.text
    assert "models" not in response.json()


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"midjourneyParams": None}, id="midjourneyParams"),
        pytest.param({"midjourneyParams": {"aspect_ratio": None}}, id="aspect_ratio"),
        pytest.param({"webhookUrl": None}, id="webhookUrl"),
        pytest.param({"webhookEvents": None}, id="webhookEvents"),
    ],
)
def test_generate_refuses_explicit_null(fields: dict[str, Any], api: Api):
    client = TestClient(api.app, headers=api.headers)
    response = client.post("/v2/images/generate", json={**_prompt(), **fields})
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"action": "variation", "index": 1, "webhookUrl": None}, id="webhookUrl"),
        pytest.param({"action": "pan", "direction": "up", "webhookEvents": None}, id="events"),
        pytest.param({"action": "inpaint", "mask": "bWFzaw==", "prompt": None}, id="prompt"),
    ],
)
def test_action_refuses_explicit_null(fields: dict[str, Any], api: Api):
    """Validation comes first, so the (unknown) parent is never looked up: 400, not 404."""
    client = TestClient(api.app, headers=api.headers)
    body = {"parentJobId": str(uuid.uuid4()), **fields}
    response = client.post("/v2/images/midjourney/action", json=body)
    assert response.status_code == 400, response.text
