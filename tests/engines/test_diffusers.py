"""The diffusers engine on a tiny random pipeline, loaded from disk like a real model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("diffusers") is None:
    pytest.skip("the diffusers extra is not installed", allow_module_level=True)

from selfjourney.engines.base import Frame, Picture, Spec
from selfjourney.engines.diffusers.canvas import (
    extend_canvas,
    feather_window,
    keep_unmasked,
    tile_boxes,
)
from selfjourney.engines.diffusers.engine import DiffusersEngine, fit_size, pick_dtype, seamless
from tests.engines.tiny_diffusers import save_tiny_pipeline

STEPS = 2


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_pipeline(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> DiffusersEngine:
    return DiffusersEngine(str(tiny_model), steps=STEPS, local_files_only=True, device="cpu")


@pytest.fixture(scope="module")
def grid(engine: DiffusersEngine) -> list[Picture]:
    return engine.generate(_spec(), 4, lambda _f: None)


def _spec(**changes: object) -> Spec:
    values: dict[str, object] = {"prompt": "a red fox in snow", "seed": 7, "width": 1024}
    values |= {"height": 1024, **changes}
    return Spec(**values)  # type: ignore[arg-type]


def _same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is None


def test_generate_renders_four_different_images_at_the_native_size(engine, grid):
    assert [picture.image.size for picture in grid] == [(64, 64)] * 4
    assert not _same(grid[0].image, grid[1].image)
    recipes = [picture.recipe for picture in grid]
    assert [recipe["seed"] for recipe in recipes] == [7, 8, 9, 10]
    assert recipes[0]["model"] == engine.model and recipes[0]["steps"] == STEPS
    assert recipes[0]["size"] == [64, 64]


def test_generate_is_deterministic_per_seed_and_reports_progress(engine, grid):
    seen: list[float] = []
    again = engine.generate(_spec(), 4, seen.append)
    assert all(_same(a.image, b.image) for a, b in zip(grid, again, strict=True))
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and len(seen) == STEPS
    other = engine.generate(_spec(seed=8), 1, lambda _f: None)
    assert _same(other[0].image, grid[1].image)  # seed 8 is picture 2 of seed 7's grid


def test_aspect_ratio_maps_to_model_multiples(engine):
    assert engine.size_for(1456, 816) == (64, 32)  # 16:9 on a 64-pixel model, multiples of 8
    assert fit_size(1456, 816, 1024, 64) == (1024, 576)
    assert fit_size(816, 1456, 512, 64) == (256, 512)


def test_negative_words_are_the_negative_prompt(engine):
    guided = DiffusersEngine(engine.model, steps=STEPS, guidance=3.0, local_files_only=True)
    [plain] = guided.generate(_spec(), 1, lambda _f: None)
    [avoiding] = guided.generate(_spec(negative=("blue", "water")), 1, lambda _f: None)
    assert avoiding.recipe["negative"] == ["blue", "water"]
    assert not _same(plain.image, avoiding.image)  # used with guidance > 1, as in diffusers


def test_vary_keeps_the_size_and_stays_near_the_source(engine, grid):
    seen: list[float] = []
    subtle = engine.vary(grid[0], _spec(seed=11), 0.3, 4, seen.append)
    assert [picture.image.size for picture in subtle] == [(64, 64)] * 4
    assert subtle[0].recipe["strength"] == 0.3 and seen and seen[-1] == pytest.approx(1.0)
    strong = engine.vary(grid[0], _spec(seed=11), 0.9, 1, lambda _f: None)
    assert not _same(strong[0].image, subtle[0].image)


def test_inpaint_keeps_every_pixel_outside_the_mask(engine, grid):
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    pictures = engine.inpaint(grid[0], _spec(), mask, 4, lambda _f: None)
    source = np.asarray(grid[0].image)
    keep = np.asarray(mask) == 0
    for picture in pictures:
        assert picture.image.size == (64, 64)
        assert (np.asarray(picture.image)[keep] == source[keep]).all()
    assert not _same(pictures[0].image, grid[0].image)


def test_pan_extends_the_canvas_and_pastes_the_source_exactly(engine, grid):
    frame = Frame(box=(0, 0, 96, 64), size=(96, 64))
    pictures = engine.extend(grid[1], _spec(width=96, height=64), frame, 4, lambda _f: None)
    for picture in pictures:
        assert picture.image.size == (96, 64)
        assert _same(picture.image.crop((0, 0, 64, 64)), grid[1].image)


def test_zoom_out_keeps_the_shrunken_source_in_the_middle(engine, grid):
    frame = Frame(box=(-32, -32, 96, 96), size=(64, 64))
    [picture] = engine.extend(grid[2], _spec(), frame, 1, lambda _f: None)
    canvas, mask = extend_canvas(grid[2].image, frame)
    assert picture.image.size == (64, 64) and mask.getbbox() == (0, 0, 64, 64)
    assert _same(picture.image.crop((16, 16, 48, 48)), canvas.crop((16, 16, 48, 48)))


def test_keep_unmasked_composites_at_the_source_size():
    source = Image.new("RGB", (40, 40), (10, 20, 30))
    drawn = Image.new("RGB", (64, 64), (200, 0, 0))
    mask = Image.new("L", (40, 40), 0)
    mask.paste(255, (0, 0, 20, 40))
    out = keep_unmasked(source, drawn, mask)
    assert out.getpixel((5, 5)) == (200, 0, 0) and out.getpixel((30, 5)) == (10, 20, 30)


def test_a_render_error_raises(engine, grid):
    with pytest.raises(ValueError):
        engine.vary(grid[0], _spec(), 1.5, 1, lambda _f: None)  # strength must be 0..1


def test_a_missing_model_raises_offline(tmp_path):
    missing = DiffusersEngine(str(tmp_path / "nothing"), local_files_only=True, device="cpu")
    with pytest.raises((OSError, ValueError)):
        missing.generate(_spec(), 1, lambda _f: None)


def test_refine_keeps_any_size_and_reports_progress(engine, grid):
    enlarged = grid[0].image.resize((150, 100), Image.Resampling.LANCZOS)
    seen: list[float] = []
    refined = engine.refine(Picture(enlarged), _spec(seed=3), 0.3, seen.append)
    again = engine.refine(Picture(enlarged), _spec(seed=3), 0.3, lambda _f: None)
    assert refined.image.size == (150, 100) and refined.image.mode == "RGB"
    assert refined.recipe["how"] == "refine" and refined.recipe["strength"] == 0.3
    assert _same(refined.image, again.image)  # seeded
    assert not _same(refined.image, enlarged)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_refine_puts_every_tile_back_where_it_came_from(engine, grid, monkeypatch):
    """With a pipeline that returns its input, the tiled, feathered pass is the identity."""
    calls: list[int] = []

    def echo(_pipe, _spec, _seeds, progress, _steps, **inputs):
        calls.append(len(inputs["image"]))
        progress(1.0)
        return list(inputs["image"])

    monkeypatch.setattr(engine, "_run", echo)
    picture = grid[1].image.resize((200, 136), Image.Resampling.LANCZOS)
    refined = engine.refine(Picture(picture), _spec(), 0.3, lambda _f: None)
    assert _same(refined.image, picture)
    assert sum(calls) == len(tile_boxes((200, 136), 64, 16)) and max(calls) <= 4


def test_tiles_cover_the_picture_with_overlap_and_equal_sizes():
    boxes = tile_boxes((200, 136), 64, 16)
    assert {(r - left, b - t) for left, t, r, b in boxes} == {(64, 64)}
    covered = np.zeros((136, 200), int)
    for left, top, right, bottom in boxes:
        covered[top:bottom, left:right] += 1
    assert covered.min() >= 1
    xs = sorted({box[0] for box in boxes})
    assert xs[0] == 0 and xs[-1] == 200 - 64
    assert all(b - a <= 64 - 16 for a, b in zip(xs, xs[1:], strict=False))
    assert tile_boxes((50, 40), 64, 16) == [(0, 0, 50, 40)]  # smaller than a tile: one box


def test_feather_window_ramps_to_the_edges_and_never_reaches_zero():
    window = feather_window(96, 64, ramp=16)[..., 0]
    assert window.shape == (64, 96) and window.min() > 0
    assert window[32, 48] == 1.0 and window[0, 0] < window[8, 8] < window[16, 16]


def test_dtype_is_float32_on_cpu_half_on_gpu_and_bfloat16_on_request(tiny_model):
    import torch

    assert pick_dtype("cpu") is torch.float32 and pick_dtype("cuda") is torch.float16
    assert pick_dtype("mps") is torch.float16 and pick_dtype("cuda", "bfloat16") is torch.bfloat16
    with pytest.raises(ValueError, match="dtype"):
        pick_dtype("cuda", "int8")
    bf16 = DiffusersEngine(
        str(tiny_model), steps=1, local_files_only=True, device="cpu", dtype="bfloat16"
    )
    [picture] = bf16.generate(_spec(), 1, lambda _f: None)
    assert bf16.loaded().text.unet.dtype is torch.bfloat16
    assert picture.image.size == (64, 64) and picture.image.mode == "RGB"


def test_concurrent_renders_overlap_and_each_keeps_its_own_result(tiny_model, grid):
    """Two renders inside the pipeline at once (a barrier both must reach) still give each
    exactly the pictures it gives alone: every render has its own scheduler."""
    import threading

    engine = DiffusersEngine(
        str(tiny_model), steps=STEPS, local_files_only=True, device="cpu", concurrent_renders=2
    )
    both_inside = threading.Barrier(2, timeout=60)
    results: dict[int, Image.Image] = {}

    def render(seed: int) -> None:
        waited = False

        def inside(_fraction: float) -> None:
            nonlocal waited
            if not waited:  # the first step: wait there for the other render
                waited = True
                both_inside.wait()

        results[seed] = engine.vary(grid[0], _spec(seed=seed), 0.9, 1, inside)[0].image

    threads = [threading.Thread(target=render, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not both_inside.broken and set(results) == {1, 2}
    for seed, image in results.items():
        assert _same(
            image, engine.vary(grid[0], _spec(seed=seed), 0.9, 1, lambda _f: None)[0].image
        )


def test_seamless_makes_the_render_periodic_so_copies_tile(engine):
    """With circular padding everywhere, the network is shift-equivariant on a torus: rolling
    the starting noise rolls the picture by the same amount (times the VAE's scale). That is
    what makes the edges meet. With the default zero padding it does not hold."""
    import torch

    pipe = engine.loaded().text
    scale = int(pipe.vae_scale_factor)
    noise = torch.randn((1, 4, 32, 32), generator=torch.Generator().manual_seed(0))

    def render(latents):
        return pipe(
            prompt="a pattern", latents=latents, num_inference_steps=2, output_type="np"
        ).images[0]

    def rolled_gap() -> float:
        plain = render(noise.clone())
        shifted = render(torch.roll(noise, shifts=(4, 8), dims=(2, 3)))
        expected = np.roll(plain, shift=(4 * scale, 8 * scale), axis=(0, 1))
        return float(np.abs(shifted - expected).max())

    with seamless(pipe):
        assert rolled_gap() < 1e-3
    assert rolled_gap() > 0.05
    modes = {m.padding_mode for m in pipe.unet.modules() if isinstance(m, torch.nn.Conv2d)}
    assert modes == {"zeros"}  # put back


def test_a_tile_render_is_seamless_and_has_the_device_to_itself(tiny_model):
    import torch

    engine = DiffusersEngine(
        str(tiny_model), steps=STEPS, local_files_only=True, device="cpu", concurrent_renders=2
    )
    seen: list[tuple[set[str], bool]] = []

    def inside(_fraction: float) -> None:
        loaded = engine.loaded()
        convs = [m for m in loaded.text.vae.modules() if isinstance(m, torch.nn.Conv2d)]
        free = loaded.slots.acquire(blocking=False)
        if free:
            loaded.slots.release()
        seen.append(({conv.padding_mode for conv in convs}, free))

    engine.generate(_spec(tile=True), 1, inside)
    engine.generate(_spec(), 1, inside)
    assert seen[0] == ({"circular"}, False)  # tiled: wraps, and no slot left for anyone else
    assert seen[-1] == ({"zeros"}, True)  # plain: one slot of two
