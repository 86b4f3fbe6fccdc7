"""Prompt flags: parsed once in the core for every dialect."""

from __future__ import annotations

import pytest

from selfjourney.domain.errors import InvalidInput
from selfjourney.domain.flags import Flags, parse_prompt


def test_known_flags_leave_the_text_and_unknown_ones_stay():
    text, flags = parse_prompt(
        "a red fox --ar 16:9 --seed 42 --no cars, tall trees --chaos 20 --tile --q 2 --v 6.1"
    )
    assert text == "a red fox --q 2"
    assert flags == Flags(
        aspect_ratio="16:9",
        seed=42,
        negative=("cars", "tall trees"),
        chaos=20,
        tile=True,
        version="6.1",
    )


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("x --aspect 2:3", Flags(aspect_ratio="2:3")),
        ("x --s 250 --w 100 --c 5", Flags(stylize=250, weird=100, chaos=5)),
        ("x --stylize 0 --weird 3000 --chaos 100", Flags(stylize=0, weird=3000, chaos=100)),
        ("x --niji 6", Flags(niji=True, version="6")),
        ("x --niji", Flags(niji=True)),
        ("x --version 7", Flags(version="7")),
        ("\u2014ar 3:2 fox", Flags(aspect_ratio="3:2")),
        ("x --AR 1:1", Flags(aspect_ratio="1:1")),
    ],
)
def test_spellings(prompt, expected):
    assert parse_prompt(prompt)[1] == expected


def test_words_after_a_single_value_flag_go_back_to_the_prompt():
    assert parse_prompt("--ar 3:2 a fox --tile in snow") == (
        "a fox in snow",
        Flags(aspect_ratio="3:2", tile=True),
    )


def test_double_dashes_inside_words_are_not_flags():
    assert parse_prompt("a-b--c and x--ar 1:1") == ("a-b--c and x--ar 1:1", Flags())


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("x --ar 1:4", "out of range"),
        ("x --ar wide", "W:H"),
        ("x --ar", "a ratio"),
        ("x --seed -1", "0 to 4294967295"),
        ("x --seed 4294967296", "0 to 4294967295"),
        ("x --chaos 101", "0 to 100"),
        ("x --stylize 1001", "0 to 1000"),
        ("x --weird lots", "0 to 3000"),
        ("x --no", "one or more words"),
        ("x --v latest", "version number"),
    ],
)
def test_malformed_values_are_clear_errors_on_the_prompt(prompt, message):
    with pytest.raises(InvalidInput) as caught:
        parse_prompt(prompt)
    assert caught.value.field == "prompt" and message in caught.value.message


def test_structured_fields_win_over_the_prompt():
    _, in_prompt = parse_prompt("x --ar 16:9 --chaos 10 --tile")
    merged = Flags(aspect_ratio="1:1", stylize=500).over(in_prompt)
    assert merged == Flags(aspect_ratio="1:1", chaos=10, tile=True, stylize=500)
    assert merged.to_json() == {"aspect_ratio": "1:1", "chaos": 10, "tile": True, "stylize": 500}
