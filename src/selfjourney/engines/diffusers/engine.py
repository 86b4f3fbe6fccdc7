"""Real pictures from any Hugging Face diffusers pipeline (GPU, Apple MPS or CPU).

Text-to-image renders the four grid images in one batched call with a seed each; vary is
image-to-image from the chosen picture; inpaint, pan and zoom out use the inpainting pipeline
built from the same weights, and the kept pixels are pasted back exactly; refine (the creative
upscale) is a light image-to-image pass over overlapping native-size tiles. Sizes follow the
model: the requested aspect ratio, scaled so the long side is the model's native side (or
``max_side``), in multiples of what its UNet and VAE accept.

torch and diffusers are imported here only, so the embedded default never needs them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import torch
from diffusers import (
    AutoPipelineForImage2Image,
    AutoPipelineForInpainting,
    DiffusionPipeline,
)
from PIL import Image

from selfjourney.engines.base import Frame, Picture, ProgressFn, Spec
from selfjourney.engines.diffusers.canvas import (
    extend_canvas,
    feather_window,
    keep_unmasked,
    tile_boxes,
)
from selfjourney.engines.diffusers.references import match_style, start_image

#: A fast distilled model, good at 1-4 steps without guidance; the default for real use.
DEFAULT_MODEL = "stabilityai/sdxl-turbo"

#: Tiles per pipeline call when refining a large picture.
REFINE_BATCH = 4

DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}

_LOADED: dict[tuple[str, str, torch.dtype, bool, int], _Loaded] = {}
_LOAD_LOCK = threading.Lock()


def pick_device(wanted: str = "auto") -> str:
    """CUDA, then Apple MPS, then CPU; an explicit choice wins."""
    if wanted != "auto":
        return wanted
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, wanted: str = "auto") -> torch.dtype:
    """float32 on the CPU (half precision is slow or missing there), float16 on a GPU;
    an explicit choice (bfloat16 for Ampere and newer) wins."""
    if wanted == "auto":
        return torch.float32 if device == "cpu" else torch.float16
    if wanted not in DTYPES:
        raise ValueError(f"dtype must be auto or one of {sorted(DTYPES)}, not {wanted!r}")
    return DTYPES[wanted]


@dataclass
class _Loaded:
    """One model in memory, its derived pipelines, and the slots that bound how many renders
    run on its device at once (``renders``: one, unless configured)."""

    text: Any
    native: int
    multiple: int
    renders: int = 1
    _derive_lock: threading.Lock = field(default_factory=threading.Lock)
    _whole_lock: threading.Lock = field(default_factory=threading.Lock)
    _img2img: Any = None
    _inpaint: Any = None

    def __post_init__(self) -> None:
        self.slots = threading.Semaphore(self.renders)

    @contextmanager
    def turn(self, whole: bool = False) -> Iterator[None]:
        """Hold one render slot, or every slot for a render that changes the shared modules."""
        count = self.renders if whole else 1
        with self._whole_lock if whole else nullcontext():
            for _ in range(count):
                self.slots.acquire()
        try:
            yield
        finally:
            for _ in range(count):
                self.slots.release()

    def img2img(self) -> Any:
        with self._derive_lock:
            if self._img2img is None:
                self._img2img = AutoPipelineForImage2Image.from_pipe(self.text)
                self._img2img.set_progress_bar_config(disable=True)
            return self._img2img

    def inpaint(self) -> Any:
        with self._derive_lock:
            if self._inpaint is None:
                self._inpaint = AutoPipelineForInpainting.from_pipe(self.text)
                self._inpaint.set_progress_bar_config(disable=True)
            return self._inpaint


@contextmanager
def seamless(pipe: Any) -> Iterator[None]:
    """``--tile``: circular padding in every convolution of the UNet and the VAE while the
    render runs, so the picture wraps around at its edges and copies of it tile seamlessly.

    The modules are shared by every pipeline of the model, so the caller holds every render
    slot meanwhile. Works for UNet models (SD, SDXL); transformer models keep their padding.
    """
    parts = [getattr(pipe, name, None) for name in ("unet", "vae")]
    convs = [
        module
        for part in parts
        if part is not None
        for module in part.modules()
        if isinstance(module, torch.nn.Conv2d)
    ]
    before = [conv.padding_mode for conv in convs]
    for conv in convs:
        conv.padding_mode = "circular"
    try:
        yield
    finally:
        for conv, mode in zip(convs, before, strict=True):
            conv.padding_mode = mode


def own_scheduler(pipe: Any) -> Any:
    """The same pipeline (same weights, no copy) with a scheduler of its own.

    A scheduler keeps per-call state (its timesteps), so renders that overlap need one each,
    as diffusers' server guide does.
    """
    scheduler = pipe.scheduler.from_config(pipe.scheduler.config)
    twin = type(pipe).from_pipe(pipe, scheduler=scheduler)
    twin.set_progress_bar_config(disable=True)
    return twin


def _load(
    model: str, device: str, dtype: torch.dtype, local_files_only: bool, renders: int
) -> _Loaded:
    load = DiffusionPipeline.from_pretrained
    pipe = load(model, dtype=dtype, local_files_only=local_files_only)  # type: ignore[no-untyped-call]
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    scale = int(getattr(pipe, "vae_scale_factor", 8))
    blocks = len(pipe.unet.config.block_out_channels)
    native = int(pipe.unet.config.sample_size) * scale
    # Pipelines check multiples of 8; the UNet halves the latent (blocks - 1) times.
    return _Loaded(pipe, native, max(8, scale * 2 ** (blocks - 1)), renders)


#: What ``--niji`` adds to the prompt: no anime model is assumed, so the words ask for the look.
NIJI_WORDS = "anime style, cel shading, clean line art, vibrant colours"


def prompt_text(spec: Spec) -> str:
    """The prompt the pipeline sees: the job's text, plus the niji look when asked."""
    return f"{spec.prompt}, {NIJI_WORDS}" if spec.niji else spec.prompt


def fit_size(width: int, height: int, long_side: int, multiple: int) -> tuple[int, int]:
    """The requested aspect ratio with its long side near ``long_side``, in ``multiple`` steps."""
    scale = long_side / max(width, height)
    return (
        max(multiple, round(width * scale / multiple) * multiple),
        max(multiple, round(height * scale / multiple) * multiple),
    )


class DiffusersEngine:
    """The Engine protocol on a diffusers pipeline; the model loads once per process.

    Usage::

        engine = DiffusersEngine("stabilityai/sdxl-turbo", steps=4, guidance=0.0)
        pictures = engine.generate(spec, 4, progress)
    """

    name = "diffusers"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        steps: int = 4,
        guidance: float = 0.0,
        local_files_only: bool = False,
        device: str = "auto",
        max_side: int | None = None,
        warmup: bool = True,
        dtype: str = "auto",
        concurrent_renders: int = 1,
    ) -> None:
        self.model = model
        self.steps = steps
        self.guidance = guidance
        self.local_files_only = local_files_only
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, dtype)
        #: Renders allowed on the device at once.
        self.concurrent_renders = max(1, concurrent_renders)
        self.max_side = max_side
        self.warmup = warmup
        #: Seconds spent inside pipeline calls so far: what a benchmark subtracts to get the
        #: engine's own overhead.
        self.pipeline_seconds = 0.0

    def loaded(self) -> _Loaded:
        """The model, loaded (and warmed up) by the first caller in this process."""
        key = (self.model, self.device, self.dtype, self.local_files_only, self.concurrent_renders)
        with _LOAD_LOCK:
            if key not in _LOADED:
                loaded = _load(
                    self.model,
                    self.device,
                    self.dtype,
                    self.local_files_only,
                    self.concurrent_renders,
                )
                if self.warmup:
                    side = loaded.multiple
                    loaded.text(prompt="", height=side, width=side, num_inference_steps=1)
                _LOADED[key] = loaded
            return _LOADED[key]

    def describe(self) -> str:
        return f"{self.name} {self.model} on {self.device}"

    def load(self) -> None:
        """Load and warm up the model now rather than on the first job."""
        self.loaded()

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """What the model renders for a requested size (long side native or ``max_side``)."""
        loaded = self.loaded()
        return fit_size(width, height, self.max_side or loaded.native, loaded.multiple)

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        """The grid in one batched call; picture n has seed ``spec.seed + n``.

        An image or omni reference is the start of an image-to-image render instead; a style
        reference moves the colours (``diffusers_references``).
        """
        width, height = self.size_for(spec.width, spec.height)
        seeds = [spec.seed + n for n in range(count)]
        start = start_image(spec.references, (width, height))
        if start is None:
            images = self._run(
                self.loaded().text, spec, seeds, progress, self.steps, height=height, width=width
            )
        else:
            images = self._from_image(start[0], spec, seeds, start[1], progress)
        used = [{"mode": r.mode, "weight": r.weight} for r in spec.references]
        extra = {"references": used} if used else {}
        return [
            self._picture(match_style(image, spec.references), spec, seed, "generate", **extra)
            for image, seed in zip(images, seeds, strict=True)
        ]

    def vary(
        self, source: Picture, spec: Spec, strength: float, count: int, progress: ProgressFn
    ) -> list[Picture]:
        """Image-to-image from the source; ``strength`` 0..1 is the share of steps redrawn."""
        width, height = self.size_for(*source.image.size)
        start = source.image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
        seeds = [spec.seed + n for n in range(count)]
        images = self._from_image(start, spec, seeds, strength, progress)
        return [
            self._picture(image, spec, seed, "vary", strength=strength)
            for image, seed in zip(images, seeds, strict=True)
        ]

    def _from_image(
        self,
        start: Image.Image,
        spec: Spec,
        seeds: list[int],
        strength: float,
        progress: ProgressFn,
    ) -> list[Image.Image]:
        """One batched image-to-image call: a picture per seed, all from ``start``."""
        return self._run(
            self.loaded().img2img(),
            spec,
            seeds,
            progress,
            _steps_for(self.steps, strength),
            image=[start] * len(seeds),
            strength=strength,
        )

    def refine(self, source: Picture, spec: Spec, strength: float, progress: ProgressFn) -> Picture:
        """A light image-to-image pass at the picture's own size, for any size: overlapping
        tiles at the model's native side, ``REFINE_BATCH`` per call, feathered together.

        Tiles never wrap around (``--tile`` is off here): a tile is a piece, not the picture.
        """
        image = source.image.convert("RGB")
        loaded = self.loaded()
        piece = replace(spec, tile=False)
        side = self.max_side or loaded.native
        boxes = tile_boxes(image.size, side, overlap=side // 4)
        tile_w, tile_h = boxes[0][2] - boxes[0][0], boxes[0][3] - boxes[0][1]
        run_size = fit_size(tile_w, tile_h, max(tile_w, tile_h), loaded.multiple)
        window = feather_window(tile_w, tile_h, ramp=side // 4)
        total = np.zeros((image.height, image.width, 3), np.float32)
        weight = np.zeros((image.height, image.width, 1), np.float32)
        batches = [boxes[n : n + REFINE_BATCH] for n in range(0, len(boxes), REFINE_BATCH)]
        for done, batch in enumerate(batches):
            first = done * REFINE_BATCH
            crops = [image.crop(box).resize(run_size, Image.Resampling.LANCZOS) for box in batch]
            drawn = self._run(
                loaded.img2img(),
                piece,
                [spec.seed + first + n for n in range(len(batch))],
                partial(_part, progress, done, len(batches)),
                _steps_for(self.steps, strength),
                image=crops,
                strength=strength,
            )
            for (left, top, right, bottom), tile in zip(batch, drawn, strict=True):
                pixels = tile.resize((tile_w, tile_h), Image.Resampling.LANCZOS)
                total[top:bottom, left:right] += np.asarray(pixels, np.float32) * window
                weight[top:bottom, left:right] += window
        refined = np.clip(total / weight + 0.5, 0, 255).astype(np.uint8)
        return self._picture(
            Image.fromarray(refined, "RGB"), spec, spec.seed, "refine", strength=strength
        )

    def inpaint(
        self, source: Picture, spec: Spec, mask: Image.Image, count: int, progress: ProgressFn
    ) -> list[Picture]:
        """Redraw the white area of ``mask``; everything else is the source, pixel for pixel."""
        return self._fill(source.image.convert("RGB"), mask.convert("L"), spec, count, progress)

    def extend(
        self, source: Picture, spec: Spec, frame: Frame, count: int, progress: ProgressFn
    ) -> list[Picture]:
        """Outpaint: the source placed on the frame's canvas, the uncovered area drawn new."""
        canvas, mask = extend_canvas(source.image.convert("RGB"), frame)
        return self._fill(canvas, mask, spec, count, progress)

    def _fill(
        self, canvas: Image.Image, mask: Image.Image, spec: Spec, count: int, progress: ProgressFn
    ) -> list[Picture]:
        width, height = self.size_for(*canvas.size)
        seeds = [spec.seed + n for n in range(count)]
        images = self._run(
            self.loaded().inpaint(),
            spec,
            seeds,
            progress,
            self.steps,
            image=[canvas.resize((width, height), Image.Resampling.LANCZOS)] * count,
            mask_image=[mask.resize((width, height), Image.Resampling.NEAREST)] * count,
            height=height,
            width=width,
            strength=1.0,
        )
        return [
            self._picture(keep_unmasked(canvas, image, mask), spec, seed, "inpaint")
            for image, seed in zip(images, seeds, strict=True)
        ]

    def _run(
        self,
        pipe: Any,
        spec: Spec,
        seeds: list[int],
        progress: ProgressFn,
        steps: int,
        **inputs: Any,
    ) -> list[Image.Image]:
        """One batched pipeline call; an out-of-memory error becomes ``MemoryError``."""
        generators = [torch.Generator(self.device).manual_seed(seed) for seed in seeds]

        def on_step(pipe: Any, step: int, _timestep: Any, kwargs: dict[str, Any]) -> Any:
            progress((step + 1) / max(1, int(getattr(pipe, "num_timesteps", steps) or steps)))
            return kwargs

        loaded = self.loaded()
        with loaded.turn(whole=spec.tile), seamless(pipe) if spec.tile else nullcontext():
            if self.concurrent_renders > 1:
                pipe = own_scheduler(pipe)
            started = time.perf_counter()
            try:
                output = pipe(
                    prompt=[prompt_text(spec)] * len(seeds),
                    negative_prompt=[", ".join(spec.negative)] * len(seeds)
                    if spec.negative
                    else None,
                    num_inference_steps=steps,
                    guidance_scale=self.guidance,
                    generator=generators,
                    callback_on_step_end=on_step,
                    output_type="pil",
                    **inputs,
                )
            except torch.OutOfMemoryError as exc:
                _free_memory()
                raise MemoryError(f"{self.device} out of memory: {exc}") from exc
            finally:
                self.pipeline_seconds += time.perf_counter() - started
        images: list[Image.Image] = output.images
        return [image.convert("RGB") for image in images]

    def _picture(
        self, image: Image.Image, spec: Spec, seed: int, how: str, **extra: Any
    ) -> Picture:
        recipe = {
            "engine": self.name,
            "model": self.model,
            "how": how,
            "seed": seed,
            "size": list(image.size),
            "steps": self.steps,
            "guidance": self.guidance,
            "prompt": prompt_text(spec),
            "negative": list(spec.negative),
            **extra,
        }
        return Picture(image, recipe)


def _part(progress: ProgressFn, done: int, parts: int, fraction: float) -> None:
    """Progress of part ``done`` (0-based) of ``parts`` equal parts."""
    progress((done + fraction) / parts)


def _steps_for(steps: int, strength: float) -> int:
    """Image-to-image runs ``steps * strength`` steps: ask for enough to run at least one."""
    return max(steps, int(1 / max(strength, 1e-3)) + 1)


def _free_memory() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
