"""``client.images.edit`` and ``create_variation`` of the real SDK: a mask (either convention)
repaints only its area, no mask is image to image, and every edit is an ordinary core job."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from PIL import Image

from tests.openai_images.serving import Served, data_of, decoded, extra, fetched, png

SIZE = (128, 96)


def picture(size: tuple[int, int] = SIZE) -> Image.Image:
    """A picture no engine draws: ramps and a bar."""
    ramp = np.tile(np.linspace(0, 255, size[0], dtype=np.uint8), (size[1], 1))
    pixels = np.stack([ramp, ramp[::-1, ::-1], np.full_like(ramp, 60)], axis=-1)
    pixels[10:20, :, 2] = 255
    return Image.fromarray(pixels)


def alpha_mask(size: tuple[int, int] = SIZE) -> Image.Image:
    """OpenAI's convention: transparent where to edit (the right half)."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (size[0] // 2, 0, size[0], size[1]))
    return mask


def white_mask(size: tuple[int, int] = SIZE) -> Image.Image:
    """The self-hosted peers' convention: white where to edit (the right half), no alpha."""
    mask = Image.new("L", size, 0)
    mask.paste(255, (size[0] // 2, 0, size[0], size[1]))
    return mask


def pixels_of(b64: str | None) -> np.ndarray:
    return np.asarray(decoded(base64.b64decode(b64 or "")).convert("RGB"))


def task_type(served: Served, key: str, job_id: str) -> str:
    """The job's kind as midapi names it (any dialect reads any job)."""
    import httpx

    response = httpx.get(
        f"{served.url}/api/v1/mj/record-info",
        params={"taskId": job_id},
        headers={"Authorization": f"Bearer {key}"},
    )
    kind: str = response.json()["data"]["taskType"]
    return kind


@pytest.mark.parametrize("mask", [alpha_mask(), white_mask()], ids=["transparent", "white"])
def test_an_edit_with_a_mask_repaints_only_inside_it(served: Served, key: str, mask):
    source = np.asarray(picture())
    result = served.sdk(key).images.edit(
        image=("picture.png", png(picture()), "image/png"),
        mask=("mask.png", png(mask), "image/png"),
        prompt="a red door",
        n=4,
        model="gpt-image-1",
    )
    assert len(data_of(result)) == 4 and result.size == "128x96"
    half = SIZE[0] // 2
    for image in data_of(result):
        drawn = pixels_of(image.b64_json)
        assert drawn.shape == source.shape
        assert (drawn[:, :half] == source[:, :half]).all()  # outside: unchanged
        assert (drawn[:, half:] != source[:, half:]).any()  # inside: changed
    assert task_type(served, key, extra(result, "job_id")) == "mj_vary_region"
    assert served.balance(key) == 1000 - 16


def test_an_edit_without_a_mask_varies_the_picture_with_the_prompt(served: Served, key: str):
    source = np.asarray(picture())
    result = served.sdk(key).images.edit(
        image=("photo.jpg", png(picture()), "image/png"), prompt="at night --seed 5", n=2
    )
    assert len(data_of(result)) == 2 and data_of(result)[0].revised_prompt == "at night"
    assert all(pixels_of(image.b64_json).shape == source.shape for image in data_of(result))
    assert not (pixels_of(data_of(result)[0].b64_json) == source).all()
    job_id = extra(result, "job_id")
    assert task_type(served, key, job_id) == "mj_vary"
    recorded = served.v2(key, f"/jobs/{job_id}")["input"]
    assert recorded["prompt"] == "at night --seed 5"
    assert recorded["image"]["filename"] == "photo.jpg" and recorded["image"]["bytes"] > 0
    assert len(recorded["image"]["sha256"]) == 64


def test_several_pictures_edit_the_first_and_record_them_all(served: Served, key: str):
    first, second = png(picture()), png(picture((64, 64)))
    result = served.sdk(key).images.edit(
        image=[("a.png", first, "image/png"), ("b.png", second, "image/png")], prompt="a cat"
    )
    assert result.size == "128x96"
    recorded = served.v2(key, f"/jobs/{extra(result, 'job_id')}")["input"]
    assert [part["filename"] for part in recorded["image[]"]] == ["a.png", "b.png"]


def test_an_explicit_size_crops_then_answers_exactly(served: Served, key: str):
    result = served.sdk(key).images.edit(
        image=("p.png", png(picture()), "image/png"),
        mask=("m.png", png(white_mask()), "image/png"),
        prompt="x",
        size="256x256",
        response_format="url",
        output_format="webp",
    )
    image, content_type, _ = fetched(data_of(result)[0].url or "")
    assert (image.size, image.format, content_type) == ((256, 256), "WEBP", "image/webp")
    grid = served.v2(key, f"/jobs/{extra(result, 'job_id')}")["result"]["images"]
    assert fetched(grid[0])[0].size == (96, 96)  # the job ran on the centre crop


def test_a_dall_e_2_edit_without_a_mask_edits_the_transparent_area(served: Served, key: str):
    holed = picture().convert("RGBA")
    holed.paste((0, 0, 0, 0), (64, 0, 128, 96))
    result = served.sdk(key).images.edit(
        image=("p.png", png(holed), "image/png"), prompt="a window", model="dall-e-2"
    )
    assert data_of(result)[0].url is not None  # dall-e's default format
    drawn = np.asarray(fetched(data_of(result)[0].url)[0].convert("RGB"))
    assert (drawn[:, :64] == np.asarray(picture())[:, :64]).all()
    assert task_type(served, key, extra(result, "job_id")) == "mj_vary_region"


#: The SDK marks ``create_variation`` deprecated (OpenAI retired the endpoint); it still works.
@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_variations_of_a_picture(served: Served, key: str):
    result = served.sdk(key).images.create_variation(
        image=("p.png", png(picture()), "image/png"), n=2
    )
    assert len(data_of(result)) == 2 and result.size == "128x96"
    for image in data_of(result):
        assert image.url is not None and image.revised_prompt is None
        assert fetched(image.url)[0].size == SIZE
    assert task_type(served, key, extra(result, "job_id")) == "mj_vary"
    strong = served.sdk(key).images.create_variation(
        image=("p.png", png(picture()), "image/png"),
        size="512x512",
        response_format="b64_json",
        extra_body={"strength": "strong"},
    )
    assert decoded(base64.b64decode(data_of(strong)[0].b64_json or "")).size == (512, 512)
    assert served.balance(key) == 1000 - 2 * 16
