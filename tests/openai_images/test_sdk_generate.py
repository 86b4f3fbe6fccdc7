"""``client.images.generate`` of the real ``openai`` SDK (3.57.0) against a served app: sizes
times ``n``, ``url`` and ``b64_json``, PNG/JPEG/WebP, the defaults, the extensions."""

from __future__ import annotations

import base64

import pytest

from selfjourney.domain.sizes import grid_image_size
from tests.midapi.fakes import SHRINK
from tests.openai_images.serving import Served, data_of, decoded, extra, fetched

#: (size, n, response_format, expected pixel size). ``auto`` is the core's own 1:1 size
#: (SmallEngine: 256x256); every other size is answered exactly.
CASES = [
    ("1024x1024", 1, "b64_json", (1024, 1024)),
    ("1536x1024", 2, "url", (1536, 1024)),
    ("512x512", 4, "b64_json", (512, 512)),
    ("1024x1792", 1, "url", (1024, 1792)),
    ("auto", 3, "url", (256, 256)),
    ("640x480", 2, "b64_json", (640, 480)),
]


@pytest.mark.parametrize(("size", "n", "response_format", "pixels"), CASES)
def test_sizes_and_counts(served: Served, key: str, size, n, response_format, pixels):
    result = served.sdk(key).images.generate(
        model="gpt-image-1",
        prompt="a lighthouse on a cliff at dawn",
        size=size,
        n=n,
        response_format=response_format,
    )
    assert len(data_of(result)) == n
    assert result.size == f"{pixels[0]}x{pixels[1]}" and result.output_format == "png"
    for image in data_of(result):
        if response_format == "url":
            assert image.b64_json is None and image.url is not None
            picture, content_type, _ = fetched(image.url)
            assert content_type == "image/png"
        else:
            assert image.url is None and image.b64_json is not None
            picture = decoded(base64.b64decode(image.b64_json))
        assert (picture.format, picture.size) == ("PNG", pixels)
        assert image.revised_prompt == "a lighthouse on a cliff at dawn"
    assert result.usage is not None and result.usage.model_extra == {"credits": 16}
    assert served.balance(key) == 1000 - 16  # one grid, whatever n
    job_id = extra(result, "job_id")
    assert [job["id"] for job in served.jobs(key)] == [job_id]


@pytest.mark.parametrize(("output_format", "kind"), [("jpeg", "JPEG"), ("webp", "WEBP")])
def test_jpeg_and_webp_with_their_quality(served: Served, key: str, output_format, kind):
    client = served.sdk(key)
    sizes = []
    for compression in (20, 95):
        result = client.images.generate(
            prompt="a red fox in the snow --seed 7",
            size="512x512",
            output_format=output_format,
            output_compression=compression,
            response_format="url",
        )
        assert result.output_format == output_format
        picture, content_type, data = fetched(data_of(result)[0].url or "")
        assert (picture.format, picture.size, content_type) == (
            kind,
            (512, 512),
            f"image/{kind.lower()}",
        )
        sizes.append(len(data))
    assert sizes[0] < sizes[1]  # the same picture, lower quality, fewer bytes
    b64 = client.images.generate(prompt="a fox", extra_body={"output_format": "jpg"})  # = jpeg
    assert b64.output_format == "jpeg"
    assert decoded(base64.b64decode(data_of(b64)[0].b64_json or "")).format == "JPEG"


@pytest.mark.parametrize(
    ("model", "b64"),
    [
        ("dall-e-3", False),
        ("DALL-E-2", False),
        ("gpt-image-1", True),
        ("midjourney", True),
        (None, True),
    ],
)
def test_the_default_response_format_follows_the_model(served: Served, key: str, model, b64):
    options = {"model": model} if model else {}
    result = served.sdk(key).images.generate(prompt="a boat", **options)
    [image] = data_of(result)
    assert (image.b64_json is not None, image.url is not None) == (b64, not b64)


def test_a_seed_makes_the_grid_reproducible_and_wins_over_the_prompt(served: Served, key: str):
    client = served.sdk(key)

    def first(prompt: str, seed: int) -> str:
        result = client.images.generate(prompt=prompt, extra_body={"seed": seed})
        return data_of(result)[0].b64_json or ""

    same = first("a lighthouse", 1234)
    assert first("a lighthouse", 1234) == same
    assert first("a lighthouse --seed 99", 1234) == same  # the structured field wins
    assert first("a lighthouse", 4321) != same


def test_prompt_flags_and_recorded_fields(served: Served, key: str):
    result = served.sdk(key).images.generate(
        prompt="a harbour at night --ar 16:9 --chaos 20",
        quality="high",
        background="transparent",
        style="vivid",
        moderation="low",
        user="user-7",
        extra_body={"negative_prompt": "boats, people", "steps": 30, "guidance_scale": 2.5},
    )
    width, height = grid_image_size("16:9")
    assert result.size == f"{width // SHRINK}x{height // SHRINK}"  # --ar 16:9, size auto
    assert data_of(result)[0].revised_prompt == "a harbour at night"
    assert result.background == "opaque" and result.quality == "high"
    job = served.v2(key, f"/jobs/{extra(result, 'job_id')}")
    assert job["input"]["steps"] == 30 and job["input"]["negative_prompt"] == "boats, people"
    assert job["input"]["background"] == "transparent" and job["model"] == "midjourney"
