"""The dialect's own rules, without a server: sizes, ratios, defaults, the wait's bound."""

from __future__ import annotations

import math

import pytest

from selfjourney.dialects.openai_images.delivery import coarse_steps
from selfjourney.dialects.openai_images.fields import parse_size
from selfjourney.dialects.openai_images.models import OpenAIGenerateRequest
from selfjourney.dialects.openai_images.translate import (
    default_b64,
    flags,
    ratio,
    to_imagine,
    wait_seconds,
)


@pytest.mark.parametrize(
    ("size", "parsed"),
    [
        ("auto", None),
        ("1024x1024", (1024, 1024)),
        ("1792X1024", (1792, 1024)),
        ("64x192", (64, 192)),
        ("4096x2048", (4096, 2048)),
    ],
)
def test_sizes_accepted(size, parsed):
    assert parse_size(size) == parsed


@pytest.mark.parametrize(
    "size", ["1000x100", "63x64", "4097x4096", "5000x5000", "0x0", "1024", "big", "1024x", "-1x5"]
)
def test_sizes_refused(size):
    with pytest.raises(ValueError):
        parse_size(size)


def test_ratios_reduce_and_win_over_the_prompt():
    assert ratio((1792, 1024)) == "7:4" and ratio((512, 512)) == "1:1" and ratio(None) is None
    command, answer = to_imagine(
        OpenAIGenerateRequest.model_validate({"prompt": "x --ar 1:2", "size": "1536x1024"})
    )
    assert command.aspect_ratio == "3:2" and answer.rendition.size == (1536, 1024)
    assert command.priority == 1 and command.dialect == "openai"


def test_default_response_format():
    assert default_b64(None, "generations") and default_b64(None, "edits")
    assert not default_b64(None, "variations") and not default_b64("dall-e-3", "generations")
    assert default_b64("gpt-image-1", "variations") and default_b64("flux", "generations")


def test_extension_flags():
    assert flags(-1, None).seed is None and flags(7, None).seed == 7
    assert flags(None, " boats, ,people ").negative == ("boats", "people")
    assert flags(None, "").negative is None


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        (None, 300),
        ("600", 300),
        ("600.0", 300),
        ("20", 15),
        ("6", 3),
        ("1", 0.5),
        ("nan", 300),
        ("x", 300),
        ("-3", 300),
    ],
)
def test_the_wait_ends_before_the_clients_read_timeout(header, wait):
    assert math.isclose(wait_seconds(300, header), wait)


def test_partials_go_coarse_to_fine():
    assert coarse_steps(0) == [] and coarse_steps(1) == [2] and coarse_steps(3) == [8, 4, 2]
