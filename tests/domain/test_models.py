"""Which model renders a job: --v / --niji, a dialect's model field, the default, refusals."""

from __future__ import annotations

import pytest

from selfjourney.domain.errors import InvalidInput, UnknownModel
from selfjourney.domain.flags import Flags, parse_prompt
from selfjourney.domain.models import ModelTable, asked_for

TABLE = ModelTable.of({"v7": ("v6.1",), "niji6": ("niji",)}, default="v7")


@pytest.mark.parametrize(
    ("prompt", "model"),
    [
        ("a fox", "v7"),
        ("a fox --v 7", "v7"),
        ("a fox --version 6.1", "v7"),
        ("a fox --niji 6", "niji6"),
        ("a fox --niji", "niji6"),
        ("--niji 6 a fox --ar 16:9", "niji6"),
    ],
)
def test_prompt_flags_pick_a_model(prompt, model):
    assert TABLE.choose(parse_prompt(prompt)[1]) == model


@pytest.mark.parametrize(
    ("flags", "wanted"),
    [
        (Flags(), None),
        (Flags(version="7"), "v7"),
        (Flags(niji=True, version="6"), "niji6"),
        (Flags(niji=True), "niji"),
        (Flags(niji=False, version="6.1"), "v6.1"),  # midapi's numeric version: not niji
    ],
)
def test_what_the_flags_ask_for(flags, wanted):
    assert asked_for(flags) == wanted


@pytest.mark.parametrize("prompt", ["a fox --v 5", "a fox --niji 7", "a fox --v 6"])
def test_an_unknown_model_is_refused_naming_the_known_ones(prompt):
    with pytest.raises(UnknownModel) as caught:
        TABLE.choose(parse_prompt(prompt)[1])
    assert isinstance(caught.value, InvalidInput) and caught.value.field == "prompt"
    assert "v7, niji6" in caught.value.message


def test_a_named_model_wins_and_a_foreign_name_is_ignored():
    assert TABLE.choose(Flags(), named="niji6") == "niji6"
    assert TABLE.choose(Flags(), named="niji") == "niji6"  # an alias names it too
    assert TABLE.choose(Flags(version="7"), named="dall-e-3") == "v7"
    with pytest.raises(UnknownModel):
        TABLE.choose(Flags(version="5"), named="gpt-image-1")


def test_the_single_model_of_a_server_without_a_table_takes_every_version_unnamed():
    single = ModelTable.single("default")
    for prompt in ("a fox", "a fox --v 5.2", "a fox --niji 6", "a fox --niji"):
        assert single.choose(parse_prompt(prompt)[1]) is None  # jobs name no model
    assert single.choose(Flags(), named="default") is None


def test_a_catch_all_takes_what_no_other_model_names():
    table = ModelTable.of({"v7": ("*",), "niji6": ("niji",)}, default="v7")
    assert table.choose(Flags(version="5")) == "v7"
    assert table.choose(Flags(niji=True, version="6")) == "niji6"


@pytest.mark.parametrize(
    ("aliases", "default", "message"),
    [
        ({"v7": ("niji",), "niji6": ("niji",)}, "v7", "both answer to 'niji'"),
        ({"v7": ("*",), "niji6": ("*",)}, "v7", "both answer to '*'"),
        ({"v7": ()}, "v8", "not in the models table"),
    ],
)
def test_a_table_that_cannot_choose_is_refused(aliases, default, message):
    with pytest.raises(ValueError, match=message):
        ModelTable.of(aliases, default=default)
