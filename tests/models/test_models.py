"""Two procedural models on one server: each request rendered by the model it asks for, actions
on their parent's, an unknown one refused in every dialect without charge, /v2/models listing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from selfjourney.embedded import Embedded, build_embedded
from selfjourney.engines.base import Picture, ProgressFn, Spec
from selfjourney.engines.procedural import ProceduralEngine
from tests.conftest import make_settings
from tests.flows import act, balance, finished, generate

MODELS = {"v7": {"aliases": ["v6.1"]}, "niji6": {"aliases": ["niji"]}}


class Tagged(ProceduralEngine):
    """The procedural engine at a quarter of the side, counting the grids it drew."""

    def __init__(self) -> None:
        super().__init__()
        self.grids = 0

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        self.grids += 1
        small = replace(spec, width=spec.width // 4, height=spec.height // 4)
        return super().generate(small, count, progress)

    def vary(
        self, source: Picture, spec: Spec, strength: float, count: int, progress: ProgressFn
    ) -> list[Picture]:
        self.grids += 1
        return super().vary(source, spec, strength, count, progress)


@pytest.fixture
def engines() -> dict[str, Tagged]:
    return {"v7": Tagged(), "niji6": Tagged()}


@pytest.fixture
def runtime(tmp_path: Path, engines: dict[str, Tagged]) -> Embedded:
    settings = make_settings(
        tmp_path / "data", models=MODELS, default_model="v7", openai_timeout=0.2
    )  # no worker threads: a synchronous OpenAI request answers 504 with its job's id
    return build_embedded(settings, engines=engines)


@pytest.fixture
def client(runtime: Embedded) -> Iterator[TestClient]:
    with TestClient(runtime.app()) as test_client:
        yield test_client


def _model(job: dict[str, Any]) -> str:
    model: str = job["selfjourney"]["model"]
    return model


@pytest.mark.parametrize(
    ("prompt", "model"),
    [
        ("a fox", "v7"),
        ("a fox --v 6.1", "v7"),
        ("a fox --niji 6", "niji6"),
        ("a fox --niji", "niji6"),
    ],
)
def test_each_grid_is_drawn_by_the_model_it_asks_for(client, headers, engines, prompt, model):
    job = finished(client, headers, generate(client, headers, prompt=prompt))
    assert _model(job) == model
    assert {name: engine.grids for name, engine in engines.items()} == {
        name: int(name == model) for name in engines
    }


def test_actions_render_with_their_parents_model(client, headers, engines, runtime):
    grid = finished(client, headers, generate(client, headers, prompt="a koi --niji 6"))
    upsample = finished(
        client, headers, act(client, headers, grid["id"], action="upsample", index=2)
    )
    variation = finished(
        client, headers, act(client, headers, grid["id"], action="variation", index=1)
    )
    assert _model(upsample) == _model(variation) == "niji6"
    assert (engines["niji6"].grids, engines["v7"].grids) == (2, 0)
    queued = runtime.store.jobs.get(variation["id"])
    assert queued is not None and queued.render_model == "niji6"


def test_an_unknown_model_is_a_400_and_costs_nothing(client, headers, runtime):
    before = balance(client, headers)
    response = client.post(
        "/v2/images/generate",
        json={"model": "midjourney", "prompt": "a fox --v 5"},
        headers=headers,
    )
    assert response.status_code == 400, response.text
    [message] = response.json()["details"]["prompt"]
    assert "unknown model 'v5'" in message and "v7, niji6" in message
    assert balance(client, headers) == before
    assert runtime.store.jobs.waiting() == []


def test_an_unknown_model_is_refused_in_every_dialect(client, api_key, headers, runtime):
    before = balance(client, headers)
    v1 = client.post("/imagine", json={"prompt": "a fox --v 5"}, headers={"Authorization": api_key})
    assert v1.status_code == 400 and "unknown model" in v1.json()["message"], v1.text
    bearer = {"Authorization": f"Bearer {api_key}"}
    midapi = client.post(
        "/api/v1/mj/generate",
        json={"taskType": "mj_txt2img", "prompt": "a fox", "version": "5.2"},
        headers=bearer,
    ).json()
    assert (midapi["code"], midapi["data"]) == (422, None) and "v5.2" in midapi["msg"], midapi
    mjproxy = client.post(
        "/mj/submit/imagine", json={"prompt": "a fox --niji 5"}, headers={"mj-api-secret": api_key}
    ).json()
    assert mjproxy["code"] == 4 and "niji5" in mjproxy["description"], mjproxy
    openai = client.post(
        "/v1/images/generations",
        json={"prompt": "a fox --v 5", "model": "dall-e-3"},
        headers=bearer,
    )
    assert openai.status_code == 400 and openai.json()["error"]["code"] == "invalid_value"
    assert balance(client, headers) == before and runtime.store.jobs.waiting() == []


def test_midjourney_proxy_and_midapi_fields_pick_models(client, api_key, runtime):
    niji = client.post(
        "/mj/submit/imagine",
        json={"prompt": "a fox", "botType": "NIJI_JOURNEY"},
        headers={"mj-api-secret": api_key},
    ).json()["result"]
    midapi = client.post(
        "/api/v1/mj/generate",
        json={"taskType": "mj_txt2img", "prompt": "a fox", "version": "niji6"},
        headers={"Authorization": f"Bearer {api_key}"},
    ).json()["data"]["taskId"]
    runtime.queue.drain()
    task = client.get(f"/mj/task/{niji}/fetch", headers={"mj-api-secret": api_key}).json()
    assert task["properties"]["model"] == "niji6" and task["botType"] == "NIJI_JOURNEY"
    record = client.get(
        "/api/v1/mj/record-info",
        params={"taskId": midapi},
        headers={"Authorization": f"Bearer {api_key}"},
    ).json()["data"]
    assert '"selfjourneyModel":"niji6"' in record["paramJson"]


def test_an_openai_model_field_naming_a_model_picks_it(client, api_key, runtime):
    response = client.post(
        "/v1/images/generations",
        json={"prompt": "a fox", "model": "niji6", "n": 1},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 504, response.text
    job = runtime.store.jobs.get(response.headers["X-Job-Id"])
    assert job is not None and job.render_model == "niji6"


def test_v2_models_lists_the_configured_models(client):
    [entry] = client.get("/v2/models").json()["models"]
    assert entry["id"] == "midjourney"
    assert entry["selfjourney"]["models"] == [
        {"name": "v7", "aliases": ["v6.1"], "default": True},
        {"name": "niji6", "aliases": ["niji"], "default": False},
    ]


def test_a_server_without_a_table_lists_its_one_model(tmp_path):
    runtime = build_embedded(make_settings(tmp_path / "data"))
    with TestClient(runtime.app()) as client:
        [entry] = client.get("/v2/models").json()["models"]
    assert entry["selfjourney"]["models"] == [
        {"name": "default", "aliases": ["*"], "default": True}
    ]


def test_a_server_without_a_table_names_no_model_on_its_jobs(tmp_path):
    runtime = build_embedded(make_settings(tmp_path / "data"))
    _, key = runtime.store.accounts.create("t", credits=100)
    with TestClient(runtime.app()) as client:
        headers = {"X-API-Key": key}
        job = finished(client, headers, generate(client, headers, prompt="a fox --niji 6"))
    assert "model" not in job["selfjourney"] and job["model"] == "midjourney"
    stored = runtime.store.jobs.get(job["id"])
    assert stored is not None and stored.render_model is None
