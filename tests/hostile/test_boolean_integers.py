"""Defect 4: a JSON boolean is never an integer (nor a number), in any dialect.

pydantic's lax mode turns ``true``/``false`` into 1/0 for ``int`` fields, and only midapi's
models use plain ``int`` (Apiframe v1 and v2 parse their numbers with validators that refuse
booleans). Each refusal must be the dialect's validation error, cost nothing and create no job.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.apiframe_v1.flows import submit_done
from tests.flows import act, finished, generate
from tests.hostile.steps import Account, midapi_refused, v1_refused, v2_refused
from tests.midapi.steps import finished as midapi_finished
from tests.midapi.steps import submit as midapi_submit

BOOLEANS = [True, False]

#: midapi fields of POST /api/v1/mj/generate that take an integer, with the booleans that
#: were accepted (and charged) before the fix. ``ow: false`` and ``videoBatchSize: false``
#: were refused only because 0 is out of their range.
MIDAPI_GENERATE = [
    ("variety", True),
    ("variety", False),
    ("stylization", True),
    ("stylization", False),
    ("weirdness", True),
    ("weirdness", False),
    ("ow", True),
    ("videoBatchSize", True),
]
#: midapi actions on a grid: (path, field), each tried with true and false.
MIDAPI_ACTIONS = [
    ("/mj/generateUpscale", "imageIndex"),
    ("/mj/upscale", "index"),
    ("/mj/upscale", "imageIndex"),
    ("/mj/generateVary", "imageIndex"),
]


@pytest.fixture
def midapi_grid(client, bearer) -> str:
    """A finished midapi txt2img task."""
    task_id = midapi_submit(client, bearer, prompt="a fox in the snow")
    midapi_finished(client, bearer, task_id)
    return task_id


def _midapi_post(client: TestClient, bearer: dict[str, str], path: str, body: Any) -> Any:
    return client.post(f"/api/v1{path}", json=body, headers=bearer)


@pytest.mark.parametrize(("field", "value"), MIDAPI_GENERATE)
def test_midapi_generate_refuses_a_boolean_integer(client, bearer, api_key, field, value):
    """Proves midapi's generate takes ``true``/``false`` as 1/0 in integer fields.

    Before the fix: ``{"code": 200, "msg": "success"}`` and 16 credits charged.
    """
    account = Account(client, api_key)
    body = {"taskType": "mj_txt2img", "prompt": "a fox", field: value}
    msg = midapi_refused(_midapi_post(client, bearer, "/mj/generate", body))
    assert field in msg, msg
    account.unchanged()


@pytest.mark.parametrize(("field", "value"), [("ow", False), ("videoBatchSize", False)])
def test_midapi_generate_refuses_false_where_zero_is_out_of_range(
    client, bearer, api_key, field, value
):
    """Pins behaviour that worked before the fix, for the wrong reason (0 is out of range)."""
    account = Account(client, api_key)
    body = {"taskType": "mj_txt2img", "prompt": "a fox", field: value}
    msg = midapi_refused(_midapi_post(client, bearer, "/mj/generate", body))
    assert field in msg, msg
    account.unchanged()


@pytest.mark.parametrize("value", BOOLEANS)
@pytest.mark.parametrize(("path", "field"), MIDAPI_ACTIONS)
def test_midapi_actions_refuse_a_boolean_image_index(
    client, bearer, api_key, midapi_grid, path, field, value
):
    """Proves midapi's upscale/vary take ``imageIndex: true`` as image 1 (``false`` as 0).

    Before the fix: ``{"code": 200, "msg": "success"}``, a job is made and charged.
    """
    account = Account(client, api_key)
    body = {"taskId": midapi_grid, field: value}
    msg = midapi_refused(_midapi_post(client, bearer, path, body))
    assert field in msg, msg
    account.unchanged()


# --- Apiframe v1 and v2: refused before the fix too (pinned) -----------------------


@pytest.fixture
def v1_grid(client, v1) -> str:
    return submit_done(client, v1, "/imagine", prompt="a lighthouse")


@pytest.fixture
def v1_upscale(client, v1, v1_grid) -> str:
    return submit_done(client, v1, "/upscale-1x", parent_task_id=v1_grid, index="2")


#: (path, parent kind, body beside parent_task_id, the boolean field).
V1_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("/upscale-1x", "grid", {}, "index"),
    ("/variations", "grid", {}, "index"),
    ("/upscale-highres", "grid", {"type": "2x"}, "index"),
    ("/outpaint", "upscale", {}, "zoom_ratio"),
    ("/pro/midjourney/variations", "grid", {}, "index"),
    ("/pro/midjourney/vary", "grid", {"type": "subtle"}, "index"),
    ("/pro/midjourney/upscale", "grid", {"type": "subtle"}, "index"),
    ("/pro/midjourney/pan", "grid", {"type": "left"}, "index"),
    ("/pro/midjourney/zoom", "grid", {"type": "1.5"}, "index"),
    ("/pro/midjourney/zoom", "grid", {"index": "1"}, "type"),
]


@pytest.mark.parametrize("value", BOOLEANS)
@pytest.mark.parametrize(
    ("path", "parent", "body", "field"), V1_CASES, ids=[f"{c[0]}:{c[3]}" for c in V1_CASES]
)
def test_v1_refuses_a_boolean_number(
    client, v1, api_key, v1_grid, v1_upscale, path, parent, body, field, value
):
    """Pins behaviour that already works: v1 refuses booleans with 400 INVALID_REQUEST."""
    account = Account(client, api_key)
    parent_id = v1_grid if parent == "grid" else v1_upscale
    payload = {"parent_task_id": parent_id, **body, field: value}
    v1_refused(client.post(path, json=payload, headers=v1), field)
    account.unchanged()


V2_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("upsample", "index", {}),
    ("variation", "index", {}),
    ("outpaint", "zoomRatio", {}),
]


@pytest.mark.parametrize("value", BOOLEANS)
@pytest.mark.parametrize(("action", "field", "body"), V2_CASES, ids=[c[0] for c in V2_CASES])
def test_v2_refuses_a_boolean_number(client, headers, api_key, action, field, body, value):
    """Pins behaviour that already works: v2 refuses booleans with its 400 envelope."""
    grid = generate(client, headers)
    finished(client, headers, grid)
    parent = act(client, headers, grid, action="upsample", index=1)
    parent = grid if action != "outpaint" else parent
    account = Account(client, api_key)
    payload = {"parentJobId": parent, "action": action, **body, field: value}
    response = client.post("/v2/images/midjourney/action", json=payload, headers=headers)
    v2_refused(response, field)
    account.unchanged()


@pytest.mark.parametrize("value", ["true", "false"])
def test_v2_job_list_refuses_a_boolean_limit(client, headers, api_key, value):
    """Pins behaviour that already works: ``?limit=true`` is a 400 naming ``limit``."""
    account = Account(client, api_key)
    response = client.get("/v2/jobs", params={"limit": value}, headers=headers)
    v2_refused(response, "limit")
    account.unchanged()
