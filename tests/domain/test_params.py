"""Typed job parameters: every part round-trips through JSON, a grid index is 1-4 and never a
boolean, and a follow-up takes from its parent exactly what the button graph says."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from selfjourney.domain.commands import Act
from selfjourney.domain.errors import InvalidInput
from selfjourney.domain.flags import Flags
from selfjourney.domain.jobs import Job, Result
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex, JobParams, References, Source
from selfjourney.domain.rules import check_args, follow_up_params, follow_up_prompt
from selfjourney.domain.sizes import Direction
from selfjourney.domain.status import JobStatus

FULL = JobParams(
    flags=Flags(
        aspect_ratio="16:9",
        seed=7,
        negative=("red", "cars"),
        chaos=30,
        stylize=500,
        weird=10,
        tile=True,
        version="6.1",
        niji=False,
    ),
    action=ActionArgs(
        index=GridIndex(3),
        zoom_ratio=1.5,
        shape="1:1",
        direction=Direction.LEFT,
        factor=4,
        mode="creative",
        strength="subtle",
    ),
    source=Source("images/j-3.png", 1024, 576, {"engine": "procedural", "seed": 9}),
    references=References(("https://a.example/1.png", "https://b.example/2.png"), "style", 0.25),
    watermark="mine",
    priority=2,
    image_url="https://c.example/3.png",
    repeats=JobKind.VARIATION,
)


@pytest.mark.parametrize(
    "params",
    [
        JobParams(),
        FULL,
        JobParams(flags=Flags(aspect_ratio="1:1"), priority=1),
        JobParams(action=ActionArgs(direction=Direction.UP), source=FULL.source),
    ],
    ids=["empty", "full", "imagine", "pan"],
)
def test_params_round_trip_through_json_text(params):
    text = json.dumps(params.to_json())
    assert JobParams.from_json(json.loads(text)) == params


def test_unset_parts_are_left_out_of_the_json():
    assert JobParams().to_json() == {"flags": {}}
    assert JobParams(flags=Flags(aspect_ratio="1:1")).to_json() == {
        "flags": {"aspect_ratio": "1:1"}
    }


def test_a_grid_index_comes_back_as_a_grid_index():
    params = JobParams.from_json({"flags": {}, "action": {"index": 2}})
    assert isinstance(params.action.index, GridIndex) and params.action.index.offset == 1


@pytest.mark.parametrize("value", [1, 2, 3, 4])
def test_grid_index_takes_one_to_four(value):
    index = GridIndex(value)
    assert index == value and index.offset == value - 1 and json.dumps(index) == str(value)


@pytest.mark.parametrize("value", [0, 5, -1, True, False, 2.0, "2", None])
def test_grid_index_refuses_anything_else(value):
    with pytest.raises(InvalidInput, match="index must be a whole number from 1 to 4") as caught:
        GridIndex(value)
    assert caught.value.field == "index"


def test_references_refuse_an_unknown_mode():
    with pytest.raises(ValueError, match="unknown reference mode"):
        References.from_json({"urls": ["https://a.example/x.png"], "mode": "sketch"})


def _parent(kind: JobKind, params: JobParams) -> Job:
    return Job(
        id="parent",
        account_id="a",
        kind=kind,
        status=JobStatus.COMPLETED,
        prompt="a red fox",
        params=params,
        input={},
        dialect="apiframe_v2",
        seed=11,
        cost=16,
        created_at=datetime.now(UTC),
        result=Result(
            [f"images/parent-{n}.png" for n in range(1, 5)],
            "images/parent-grid.png",
            1024,
            576,
            [{"n": n} for n in range(1, 5)],
        ),
    )


def test_an_action_keeps_its_parents_look_and_starts_from_the_chosen_picture():
    parent = _parent(JobKind.IMAGINE, FULL)
    act = Act("parent", JobKind.VARIATION, ActionArgs(index=GridIndex(2)), priority=1)
    params = follow_up_params(parent, act)
    assert params.flags == Flags(
        negative=("red", "cars"),
        chaos=30,
        stylize=500,
        weird=10,
        tile=True,
        version="6.1",
        niji=False,
    )  # the look, but not the grid's shape or seed
    assert params.action == ActionArgs(index=GridIndex(2))
    assert params.source == Source("images/parent-2.png", 1024, 576, {"n": 2})
    assert params.references is None and params.watermark is None and params.priority == 1
    assert follow_up_prompt(parent, act) == "a red fox"


def test_a_reroll_repeats_its_parent_with_what_it_asked_for():
    parent = _parent(JobKind.OUTPAINT, FULL)
    params = follow_up_params(parent, Act("parent", JobKind.REROLL, watermark="new"))
    assert params.repeats is JobKind.OUTPAINT
    assert (params.flags, params.action, params.source) == (FULL.flags, FULL.action, FULL.source)
    assert params.watermark == "new" and params.priority == FULL.priority
    again = _parent(JobKind.REROLL, params)
    assert follow_up_params(again, Act("parent", JobKind.REROLL)).repeats is JobKind.OUTPAINT


def test_a_reroll_of_a_grid_from_a_prompt_renders_as_an_imagine():
    parent = _parent(JobKind.IMAGINE, JobParams(flags=Flags(aspect_ratio="1:1")))
    act = Act("parent", JobKind.REROLL, prompt="a blue fox --ar 2:3")
    params = follow_up_params(parent, act)
    assert params.repeats is JobKind.IMAGINE and params.flags.aspect_ratio == "1:1"
    assert follow_up_prompt(parent, act) == "a blue fox"


def test_upsample_and_variation_need_an_index():
    for kind in (JobKind.UPSAMPLE, JobKind.VARIATION):
        with pytest.raises(InvalidInput, match="needs the index") as caught:
            check_args(kind, ActionArgs())
        assert caught.value.field == "index"
    check_args(JobKind.PAN, ActionArgs(direction=Direction.UP))
