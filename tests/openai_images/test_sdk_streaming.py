"""``stream=True`` through the real SDK: OpenAI's event shapes, partials coarse to fine before
each picture's completed event, and failures as an error event the SDK raises."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import numpy as np
import openai
import pytest
from openai.types import (
    ImageEditCompletedEvent,
    ImageEditPartialImageEvent,
    ImageGenCompletedEvent,
    ImageGenPartialImageEvent,
)

from tests.openai_images.serving import Served, data_of, decoded, extra, png, serving
from tests.openai_images.test_sdk_edits import picture, white_mask


def _pixels(b64: str) -> np.ndarray:
    return np.asarray(decoded(base64.b64decode(b64)).convert("RGB"), np.float32)


def test_a_generation_streams_partials_then_each_picture(served: Served, key: str):
    stream = served.sdk(key).images.generate(
        prompt="a lighthouse --seed 3", n=2, size="512x512", stream=True, partial_images=3
    )
    events = list(stream)
    names = [event.type for event in events]
    partial, completed = "image_generation.partial_image", "image_generation.completed"
    assert names == [partial, partial, partial, completed] * 2
    pictures = [e for e in events if isinstance(e, ImageGenCompletedEvent)]
    partials = [e for e in events if isinstance(e, ImageGenPartialImageEvent)]
    assert [e.partial_image_index for e in partials] == [0, 1, 2] * 2
    assert [extra(e, "image_index") for e in pictures] == [0, 1]
    for number, done in enumerate(pictures):
        assert (done.size, done.output_format, done.background) == ("512x512", "png", "opaque")
        assert done.usage.input_tokens == 6 and extra(done.usage, "credits") == 16
        final = _pixels(done.b64_json)
        assert final.shape == (512, 512, 3)
        stages = partials[number * 3 : number * 3 + 3]
        errors = [np.abs(_pixels(stage.b64_json) - final).mean() for stage in stages]
        assert errors[0] > errors[1] > errors[2] > 0  # coarse to fine
    job_id = extra(pictures[0], "job_id")
    assert stream.response.headers["X-Job-Id"] == job_id
    # the same pictures the job holds: grid images 1 and 2
    plain = served.sdk(key).images.generate(prompt="a lighthouse --seed 3", n=2, size="512x512")
    assert [d.b64_json for d in data_of(plain)] == [p.b64_json for p in pictures]
    assert served.balance(key) == 1000 - 2 * 16


def test_an_edit_streams_image_edit_events(served: Served, key: str):
    stream = served.sdk(key).images.edit(
        image=("p.png", png(picture()), "image/png"),
        mask=("m.png", png(white_mask()), "image/png"),
        prompt="a door",
        stream=True,
        partial_images=1,
        output_format="jpeg",
    )
    events = list(stream)
    assert [type(e) for e in events] == [ImageEditPartialImageEvent, ImageEditCompletedEvent]
    assert decoded(base64.b64decode(events[-1].b64_json)).format == "JPEG"


def test_no_partials_when_none_are_asked(served: Served, key: str):
    events = list(served.sdk(key).images.generate(prompt="a fox", stream=True))
    assert [e.type for e in events] == ["image_generation.completed"]


@pytest.fixture(scope="module")
def paused(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("paused"), workers=0, openai_timeout=0.5) as server:
        yield server


def test_a_stream_that_times_out_ends_with_an_error_event(paused: Served):
    key = paused.key()
    stream: Any = paused.sdk(key).images.generate(prompt="a fox", stream=True, partial_images=2)
    with pytest.raises(openai.APIError) as failed:
        list(stream)
    assert "not ready within 0.5 s" in failed.value.message
    assert failed.value.body["code"] == "generation_timeout"  # type: ignore[index]
    assert paused.balance(key) == 1000 - 16  # the job goes on, charged
