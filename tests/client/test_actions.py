"""Each action of ``selfjourney act`` (and the MCP ``act`` tool) as the request that presses it."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from selfjourney.client.actions import ACTIONS, Submission, action_request, read_mask
from selfjourney.client.errors import BadAction

JOB = "3f6c0d3e-0000-4000-8000-000000000001"
V2 = "/v2/images/midjourney/action"


def v2(**body: Any) -> Submission:
    return Submission(V2, {"parentJobId": JOB, **body}, "v2")


def v1(path: str, **body: Any) -> Submission:
    return Submission(path, {"parent_task_id": JOB, **body}, "v1")


@pytest.mark.parametrize(
    ("args", "options", "expected"),
    [
        (("upsample", "2"), {}, v2(action="upsample", index=2)),
        (("variation", "3"), {}, v2(action="variation", index=3)),
        (
            ("variation", "3"),
            {"strength": "strong"},
            v1("/pro/midjourney/vary", index=3, type="strong"),
        ),
        (
            ("variation", "1"),
            {"strength": "subtle"},
            v1("/pro/midjourney/vary", index=1, type="subtle"),
        ),
        (("reroll", None), {}, v1("/reroll")),
        (("reroll", None), {"prompt": "a wolf"}, v1("/reroll", prompt="a wolf")),
        (("pan", "left"), {}, v2(action="pan", direction="left")),
        (("pan", "UP"), {}, v2(action="pan", direction="up")),
        (("zoom", "2"), {}, v2(action="outpaint", zoomRatio=2)),
        (("zoom", "1.5"), {}, v2(action="outpaint", zoomRatio=1.5)),
        (("zoom", "1.25"), {}, v1("/outpaint", zoom_ratio=1.25)),
        (("upscale", "2x"), {}, v1("/upscale-highres", type="2x")),
        (("upscale", "4x"), {}, v1("/upscale-highres", type="4x")),
        (("upscale", "creative"), {}, v1("/upscale-alt", type="creative")),
        (("upscale", "subtle"), {}, v1("/upscale-alt", type="subtle")),
    ],
)
def test_each_action_is_one_request(
    args: tuple[str, str | None], options: dict[str, Any], expected: Submission
) -> None:
    assert action_request(JOB, *args, **options) == expected


def test_inpaint_sends_the_mask_file_as_base64_and_the_prompt() -> None:
    sent = action_request(JOB, "inpaint", mask=b"\x89PNG...", prompt="a red door")
    assert sent == v2(
        action="inpaint", mask=base64.b64encode(b"\x89PNG...").decode(), prompt="a red door"
    )
    assert "prompt" not in action_request(JOB, "inpaint", mask=b"m").body


def test_every_action_is_covered() -> None:
    assert ACTIONS == ("upsample", "variation", "reroll", "pan", "zoom", "inpaint", "upscale")


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (("fly", None), {}, "unknown action 'fly': use one of upsample, variation"),
        (("upsample", None), {}, "upsample takes an image number 1-4, e.g. `upsample 2`"),
        (("upsample", "5"), {}, "upsample takes an image number 1-4"),
        (("variation", "x"), {}, "variation takes an image number 1-4"),
        (("pan", "sideways"), {}, "pan takes a direction: up, down, left, right"),
        (("zoom", "far"), {}, "zoom takes a zoom-out ratio in (1, 2]"),
        (("zoom", "nan"), {}, "zoom takes a zoom-out ratio in (1, 2]"),
        (("upscale", "8x"), {}, "upscale takes one of 2x, 4x, subtle, creative"),
        (("reroll", "2"), {}, "reroll takes no argument (got '2')"),
        (("inpaint", None), {}, "inpaint needs --mask FILE"),
        (("upsample", "1"), {"strength": "strong"}, "--strong/--subtle does not apply to upsample"),
        (("pan", "left"), {"mask": b"m"}, "--mask does not apply to pan"),
        (("upscale", "2x"), {"prompt": "x"}, "--prompt does not apply to upscale"),
    ],
)
def test_an_action_that_cannot_be_sent_says_why(
    args: tuple[str, str | None], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadAction) as refused:
        action_request(JOB, *args, **options)
    assert str(refused.value).startswith(message)


def test_a_mask_that_cannot_be_read_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(BadAction, match=f"cannot read the mask {tmp_path / 'no.png'}: No such"):
        read_mask(tmp_path / "no.png")
