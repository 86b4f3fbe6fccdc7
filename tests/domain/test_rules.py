"""Unit tests of the core rules: sizes, frames, parent checks, the status machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from selfjourney.domain.errors import (
    ActionUnavailable,
    InvalidAspectRatio,
    InvalidInput,
    InvalidParent,
    InvalidTransition,
)
from selfjourney.domain.jobs import Job, Result
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex, JobParams
from selfjourney.domain.rules import (
    FOLLOW_UPS,
    check_parent,
    check_strength,
    check_upscale_image,
    check_zoom_ratio,
    follow_ups,
)
from selfjourney.domain.sizes import MAX_PIXELS, Direction, grid_image_size, pan_frame, zoom_frame
from selfjourney.domain.status import JobStatus, check_transition


@pytest.mark.parametrize(
    ("ratio", "size"),
    [("1:1", (1024, 1024)), ("16:9", (1368, 768)), ("9:16", (768, 1368)), ("3:1", (1776, 592))],
)
def test_grid_image_size(ratio, size):
    assert grid_image_size(ratio) == size


@pytest.mark.parametrize("ratio", ["", "1", "1:2:3", "a:b", "0:5", "5:0", "-1:1", "1:4", "7:2"])
def test_bad_ratios(ratio):
    with pytest.raises(InvalidAspectRatio):
        grid_image_size(ratio)


def test_pan_frames():
    assert pan_frame(1024, 1024, Direction.LEFT) == ((-512, 0, 1024, 1024), (1536, 1024))
    assert pan_frame(1024, 1024, Direction.DOWN) == ((0, 0, 1024, 1536), (1024, 1536))
    box, (w, h) = pan_frame(2048, 2048, Direction.RIGHT)
    assert box == (0, 0, 3072, 2048) and w * h <= MAX_PIXELS and w % 8 == 0 and h % 8 == 0


def test_zoom_frames():
    assert zoom_frame(1024, 1024, 2.0) == ((-512, -512, 1536, 1536), (1024, 1024))
    assert zoom_frame(1000, 800, 1.5) == ((-250, -200, 1250, 1000), (1000, 800))


def _job(kind: JobKind, status: JobStatus = JobStatus.COMPLETED, result: bool = True) -> Job:
    return Job(
        id="j",
        account_id="a",
        kind=kind,
        status=status,
        prompt="p",
        params=JobParams(),
        input={},
        dialect="apiframe_v2",
        seed=1,
        cost=16,
        created_at=datetime.now(UTC),
        result=Result(["k"], None, 8, 8) if result else None,
    )


GRID_KINDS = [JobKind.IMAGINE, JobKind.VARIATION, JobKind.INPAINT, JobKind.OUTPAINT, JobKind.PAN]


@pytest.mark.parametrize("parent", GRID_KINDS)
@pytest.mark.parametrize("action", [JobKind.UPSAMPLE, JobKind.VARIATION])
def test_grid_actions_take_any_grid(parent, action):
    check_parent(_job(parent), action)


@pytest.mark.parametrize("action", [JobKind.INPAINT, JobKind.OUTPAINT, JobKind.PAN])
def test_upsample_actions_take_an_upsample_only(action):
    check_parent(_job(JobKind.UPSAMPLE), action)
    for parent in GRID_KINDS:
        with pytest.raises(InvalidParent):
            check_parent(_job(parent), action)


@pytest.mark.parametrize("action", [JobKind.OUTPAINT, JobKind.PAN, JobKind.UPSCALE])
def test_with_an_index_outpaint_pan_and_upscale_take_a_grid_instead(action):
    for parent in GRID_KINDS:
        check_parent(_job(parent), action, index=GridIndex(2))
    with pytest.raises(InvalidParent, match="image 2 needs a grid"):
        check_parent(_job(JobKind.UPSAMPLE), action, index=GridIndex(2))
    with pytest.raises(ActionUnavailable):
        check_parent(
            _job(JobKind.IMAGINE, JobStatus.QUEUED, result=False), action, index=GridIndex(1)
        )


def test_an_index_does_not_open_inpaint_to_a_grid():
    with pytest.raises(InvalidParent, match="needs an upsample"):
        check_parent(_job(JobKind.IMAGINE), JobKind.INPAINT, index=GridIndex(1))


def test_variation_strength_is_subtle_strong_or_none():
    for strength in (None, "subtle", "strong"):
        check_strength(JobKind.VARIATION, strength)
    with pytest.raises(InvalidInput, match="subtle or strong, not medium") as bad:
        check_strength(JobKind.VARIATION, "medium")
    assert bad.value.field == "strength"
    with pytest.raises(InvalidInput, match="variations only"):
        check_strength(JobKind.PAN, "subtle")


def test_zoom_ratio_is_over_1_and_at_most_2():
    for ratio in (None, 1.01, 1.5, 2.0):
        check_zoom_ratio(ratio)
    for ratio in (1.0, 0.5, 2.01, 3.0):
        with pytest.raises(InvalidInput, match="over 1 and at most 2"):
            check_zoom_ratio(ratio)


def test_an_image_to_upscale_is_at_most_2048_and_its_result_within_the_cap():
    check_upscale_image(2048, 2048, 2)
    check_upscale_image(1024, 768, 4)
    with pytest.raises(InvalidInput, match="is 3000x2000; /upscale-highres takes images up to"):
        check_upscale_image(3000, 2000, 2)
    with pytest.raises(InvalidInput, match="4x upscale would be 6000x4000"):
        check_upscale_image(1500, 1000, 4)


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.PROCESSING, JobStatus.FAILED])
def test_unfinished_parents_are_unavailable(status):
    with pytest.raises(ActionUnavailable, match=status.value):
        check_parent(_job(JobKind.IMAGINE, status, result=False), JobKind.UPSAMPLE)


def test_wrong_kind_is_reported_before_status():
    with pytest.raises(InvalidParent):
        check_parent(_job(JobKind.UPSAMPLE, JobStatus.QUEUED, result=False), JobKind.UPSAMPLE)


def test_transitions():
    check_transition("j", JobStatus.QUEUED, JobStatus.PROCESSING)
    check_transition("j", JobStatus.PROCESSING, JobStatus.QUEUED)
    for terminal in (JobStatus.COMPLETED, JobStatus.FAILED):
        assert terminal.is_terminal()
        with pytest.raises(InvalidTransition):
            check_transition("j", terminal, JobStatus.PROCESSING)
    with pytest.raises(InvalidTransition):
        check_transition("j", JobStatus.QUEUED, JobStatus.COMPLETED)


def test_a_custom_zoom_frames_the_new_shape_around_the_zoomed_out_source():
    # A square made 2:1 without zooming: as wide as needed, the source centred, same pixels.
    box, size = zoom_frame(1024, 1024, 1.0, "2:1")
    assert box == (-512, 0, 1536, 1024) and size == (1448, 728)
    # A 16:9 made square at 1.5x: the zoomed-out 1536x864 box grown to 1536x1536.
    box, size = zoom_frame(1344, 768, 1.5, "1:1")
    assert box == (-336, -624, 1680, 1392) and size == (1016, 1016)
    assert box[2] - box[0] == box[3] - box[1]


def test_a_zoom_ratio_of_1_needs_a_new_shape_and_the_shape_must_be_valid():
    check_zoom_ratio(1.0, "1:1")
    with pytest.raises(InvalidInput, match="aspect_ratio for a new shape") as refused:
        check_zoom_ratio(1.0)
    assert refused.value.field == "zoom_ratio"
    with pytest.raises(InvalidInput, match="1:3 to 3:1") as refused:
        check_zoom_ratio(2.0, "5:1")
    assert refused.value.field == "aspect_ratio"


def _finished(kind: JobKind, size: int = 1024, **changes) -> Job:
    job = replace(_job(kind), result=Result(["k"], None, size, size), **changes)
    if kind is JobKind.UPSAMPLE:
        job = replace(
            job, parent_id="grid", params=JobParams(action=ActionArgs(index=GridIndex(2)))
        )
    return job


def test_a_vary_region_grid_cannot_be_rerolled():
    """Its mask is deleted when it finishes; a reroll used to be accepted, then fail."""
    inpaint = _job(JobKind.INPAINT)
    with pytest.raises(InvalidParent, match="vary-region grid cannot be rerolled"):
        check_parent(inpaint, JobKind.REROLL)
    rerolled = replace(_job(JobKind.REROLL), params=JobParams(repeats=JobKind.INPAINT))
    with pytest.raises(InvalidParent):
        check_parent(rerolled, JobKind.REROLL)
    check_parent(_job(JobKind.PAN), JobKind.REROLL)


@pytest.mark.parametrize("kind", [k for k in GRID_KINDS if k is not JobKind.INPAINT])
def test_follow_ups_of_a_grid(kind):
    assert follow_ups(_finished(kind)) == ("upsample", "variation", "reroll")


def test_follow_ups_of_a_vary_region_grid_have_no_reroll():
    assert follow_ups(_finished(JobKind.INPAINT)) == ("upsample", "variation")


def test_follow_ups_of_an_upsample_keep_upscales_within_the_cap():
    square = _finished(JobKind.UPSAMPLE, size=1024)
    assert follow_ups(square) == (
        *("vary_subtle", "vary_strong", "inpaint", "outpaint", "pan"),
        *("upscale_2x", "upscale_4x"),
    )
    wide = _finished(JobKind.UPSAMPLE, size=1368)
    assert "upscale_4x" not in follow_ups(wide) and "upscale_2x" in follow_ups(wide)
    assert set(follow_ups(square)) <= set(FOLLOW_UPS)


@pytest.mark.parametrize(
    "job",
    [
        _job(JobKind.IMAGINE, JobStatus.PROCESSING, result=False),
        _job(JobKind.IMAGINE, JobStatus.FAILED, result=False),
        replace(_job(JobKind.IMAGINE), expired=True),
        _job(JobKind.UPSCALE),
    ],
    ids=["processing", "failed", "expired", "upscale"],
)
def test_no_follow_ups(job):
    assert follow_ups(job) == ()
