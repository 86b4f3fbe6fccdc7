"""Schemathesis against the v1 operations of our own ``/openapi.json``, driven in-process.

Positive and negative cases for every v1 path, the Pro ones too: no 5xx, every response as
documented, and every request the document calls invalid refused. The runtime is never started.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.fuzzing import CHECKS, funded_app, fuzz_config, served_openapi, without_lifespan

V1_PATHS = {
    "/imagine",
    "/blend",
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
    "/pro/midjourney/imagine",
    "/pro/midjourney/variations",
    "/pro/midjourney/vary",
    "/pro/midjourney/upscale",
    "/pro/midjourney/pan",
    "/pro/midjourney/zoom",
    "/pro/midjourney/generation/{generation_id}",
    "/pro/midjourney/account",
}
CONFIG = fuzz_config(max_examples=15)


class OwnApp:
    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.headers = {"Authorization": key}


@pytest.fixture
def own(tmp_path: Path) -> Iterator[OwnApp]:
    with funded_app(tmp_path / "data", "own-openapi-v1") as (_, app, key):
        # the lifespan never starts: no worker renders what the fuzzer submits
        yield OwnApp(without_lifespan(app), key)


def _v1_openapi() -> dict[str, Any]:
    """The served document, cut down to the v1 paths."""
    document = dict(served_openapi())
    document["paths"] = {p: ops for p, ops in document["paths"].items() if p in V1_PATHS}
    return document


SERVED = _v1_openapi()
schema = schemathesis.openapi.from_dict(SERVED, config=schemathesis.Config.from_dict(CONFIG))


def test_we_publish_every_v1_operation():
    assert set(SERVED["paths"]) == V1_PATHS
    assert SERVED["paths"]["/account"].keys() == {"get"}
    assert SERVED["paths"]["/pro/midjourney/account"].keys() == {"get"}
    assert SERVED["paths"]["/pro/midjourney/generation/{generation_id}"].keys() == {"get"}


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_v1_conforms_to_own_openapi(case: schemathesis.Case[Any], own: OwnApp):
    response = case.call(app=own.app, headers=own.headers)
    case.validate_response(response, checks=CHECKS)
