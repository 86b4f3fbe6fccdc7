"""The models table in settings: from the environment, validated, the single default."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from selfjourney.config import Settings

TABLE = (
    '{"v7": {"engine": "diffusers", "model": "stabilityai/sdxl-turbo", "aliases": ["v6.1"]},'
    ' "niji6": {"engine": "procedural", "steps": 8, "aliases": ["niji"]}}'
)


def _settings(**values: Any) -> Settings:
    return Settings(**values)


def test_no_table_is_one_model_named_default_from_the_engine_settings():
    settings = _settings(engine="procedural")
    table = settings.model_table()
    assert table.names == ("default",) and table.default == "default"
    assert settings.model_specs()["default"].engine == "procedural"
    assert settings.for_model("default") == settings


def test_the_table_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SELFJOURNEY_MODELS", TABLE)
    monkeypatch.setenv("SELFJOURNEY_DEFAULT_MODEL", "niji6")
    settings = _settings(steps=4, guidance=0.0)
    assert settings.model_table().names == ("v7", "niji6")
    assert settings.model_table().default == "niji6"
    v7 = settings.for_model("v7")
    assert (v7.engine, v7.model, v7.steps) == ("diffusers", "stabilityai/sdxl-turbo", 4)
    niji = settings.for_model("niji6")
    assert (niji.engine, niji.steps, niji.guidance) == ("procedural", 8, 0.0)


def test_the_default_model_is_the_first_unless_named():
    settings = _settings(models={"v7": {}, "niji6": {"aliases": ["niji"]}})
    assert settings.model_table().default == "v7"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"models": {"v7": {}}, "default_model": "niji6"}, "not in the models table"),
        ({"default_model": "v7"}, "not in the models table"),
        ({"models": {"V 7": {}}}, "model names must match"),
        ({"models": {"v7": {"engine": "dalle"}}}, "engine"),
        ({"models": {"v7": {"steps": 0}}}, "steps"),
        ({"models": {"v7": {"sampler": "x"}}}, "sampler"),
        ({"models": {"a": {"aliases": ["niji"]}, "b": {"aliases": ["niji"]}}}, "both answer"),
    ],
)
def test_a_table_that_cannot_work_is_refused_at_start(values, message):
    with pytest.raises(ValidationError, match=message):
        _settings(**values)
