"""Reference images and --niji on the diffusers engine: start images, colour matching, words."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from selfjourney.engines.base import Reference, Spec
from selfjourney.engines.diffusers.references import match_style, start_image

BLUE = Image.new("RGB", (40, 20), (20, 40, 200))


def _gradient(size: tuple[int, int] = (64, 64)) -> Image.Image:
    ramp = np.linspace(0, 255, size[0], dtype=np.float32)[None, :].repeat(size[1], 0)
    return Image.fromarray(np.stack([ramp, ramp[::-1], ramp * 0.5], -1).astype(np.uint8))


def test_no_image_reference_means_no_start_image():
    assert start_image((), (64, 64)) is None
    assert start_image((Reference(BLUE, "style", 1.0),), (64, 64)) is None
    assert start_image((Reference(BLUE, "image", 0.0),), (64, 64)) is None


def test_image_and_omni_references_start_at_the_picture_size():
    image, strength = start_image((Reference(BLUE, "image", 1.0),), (64, 32)) or (None, 0)
    assert image is not None and image.size == (64, 32) and strength == pytest.approx(0.5)
    assert image.getpixel((10, 10)) == (20, 40, 200)
    found = start_image((Reference(BLUE, "style", 1), Reference(BLUE, "omni", 0.5)), (8, 8))
    assert found is not None and found[1] == pytest.approx(1 - 0.3 * 0.5)


def test_a_full_style_weight_takes_the_references_colours_and_keeps_the_layout():
    picture = _gradient()
    matched = np.asarray(match_style(picture, (Reference(BLUE, "style", 1.0),)), np.float32)
    assert np.allclose(matched.mean(axis=(0, 1)), (20, 40, 200), atol=1.5)
    half = np.asarray(match_style(picture, (Reference(BLUE, "style", 0.5),)), np.float32)
    before = np.asarray(picture, np.float32).mean(axis=(0, 1))
    assert np.allclose(half.mean(axis=(0, 1)), (before + (20, 40, 200)) / 2, atol=1.5)
    assert match_style(picture, ()) is picture
    assert match_style(picture, (Reference(BLUE, "image", 1.0),)) is picture


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("diffusers") is None:
        pytest.skip("the diffusers extra is not installed")
    from selfjourney.engines.diffusers import DiffusersEngine
    from tests.engines.tiny_diffusers import save_tiny_pipeline

    model: Path = save_tiny_pipeline(tmp_path_factory.mktemp("tiny"))
    return DiffusersEngine(str(model), steps=2, local_files_only=True, device="cpu")


def _spy(engine: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record each pipeline call's pipe class and inputs, then run it for real."""
    calls: list[dict[str, Any]] = []
    real = type(engine)._run

    def run(pipe: Any, spec: Spec, seeds: Any, progress: Any, steps: int, **inputs: Any) -> Any:
        calls.append({"pipe": type(pipe).__name__, "spec": spec, **inputs})
        return real(engine, pipe, spec, seeds, progress, steps, **inputs)

    monkeypatch.setattr(engine, "_run", run)
    return calls


def test_an_image_reference_is_the_start_of_an_img2img_render(engine, monkeypatch):
    calls = _spy(engine, monkeypatch)
    spec = Spec("a harbour", seed=3, width=1024, height=512, references=(Reference(BLUE),))
    pictures = engine.generate(spec, 4, lambda _f: None)
    [call] = calls
    assert "Img2Img" in call["pipe"] and call["strength"] == pytest.approx(0.75)
    assert [image.size for image in call["image"]] == [(64, 32)] * 4
    assert [p.image.size for p in pictures] == [(64, 32)] * 4
    assert pictures[0].recipe["references"] == [{"mode": "image", "weight": 0.5}]


def test_a_style_reference_moves_the_rendered_colours(engine):
    plain = Spec("a harbour", seed=3, width=64, height=64)
    styled = Spec(
        "a harbour", seed=3, width=64, height=64, references=(Reference(BLUE, "style", 1.0),)
    )
    [before] = engine.generate(plain, 1, lambda _f: None)
    [after] = engine.generate(styled, 1, lambda _f: None)
    target = np.array([20, 40, 200], np.float32)
    distance = [
        np.abs(np.asarray(p.image, np.float32).mean(axis=(0, 1)) - target).sum()
        for p in (before, after)
    ]
    assert distance[1] < 5 < distance[0]


def test_niji_asks_the_model_for_the_anime_look(engine, monkeypatch):
    calls = _spy(engine, monkeypatch)
    [picture] = engine.generate(
        Spec("a fox", seed=1, width=64, height=64, niji=True), 1, lambda _f: None
    )
    assert calls[0]["pipe"].endswith("Pipeline") and "Img2Img" not in calls[0]["pipe"]
    assert picture.recipe["prompt"].startswith("a fox, anime style")
