"""Time one 2x2 grid of the procedural engine: four 1024x1024 pictures plus their 2048x2048
composite, all PNG-encoded (compress_level=1), as a worker would deliver them.

Usage: ``python bench/bench_grid.py --runs 8``. Prints seconds per grid (median, p90) beside a
baseline measured in the same run, PNG-encoding five ready-made smooth random images of the
same sizes, so the ratio stays meaningful on a busy or slow machine; the CPU seconds of the
grid (all threads) help too when other work shares the cores.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np
from PIL import Image

from selfjourney.engines.base import Spec, no_progress
from selfjourney.engines.procedural import ProceduralEngine

SIDE = 1024
PROMPTS = (
    "a quiet valley at dusk",
    "snowy mountains at sunset",
    "blue ocean waves",
    "cyberpunk city at night",
    "misty pine forest",
    "starry space nebula",
    "a pink flower",
    "portrait of a queen in gold",
)


def encode(image: Image.Image) -> int:
    """PNG-encode like the service does; returns the byte count."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.tell()


def composite(images: list[Image.Image]) -> Image.Image:
    """The 2x2 grid image shown before the user picks one."""
    grid = Image.new("RGB", (2 * SIDE, 2 * SIDE))
    for i, image in enumerate(images):
        grid.paste(image, ((i % 2) * SIDE, (i // 2) * SIDE))
    return grid


def time_grid(engine: ProceduralEngine, prompt: str, seed: int) -> tuple[float, float]:
    """Seconds to generate, and seconds to composite and encode, one grid."""
    start = time.perf_counter()
    pictures = engine.generate(Spec(prompt, seed, SIDE, SIDE), 4, no_progress)
    rendered = time.perf_counter()
    images = [p.image for p in pictures]
    for image in [*images, composite(images)]:
        encode(image)
    return rendered - start, time.perf_counter() - rendered


def baseline_images(seed: int) -> list[Image.Image]:
    """Smooth random colour fields of the grid's sizes, made before the clock starts."""
    rng = np.random.default_rng(seed)
    images = []
    for side in (SIDE, SIDE, SIDE, SIDE, 2 * SIDE):
        cells = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
        images.append(cells.resize((side, side), Image.Resampling.BICUBIC))
    return images


def time_baseline(images: list[Image.Image]) -> float:
    """Seconds to PNG-encode the baseline images."""
    start = time.perf_counter()
    for image in images:
        encode(image)
    return time.perf_counter() - start


def spread(samples: list[float]) -> tuple[float, float]:
    """Median and 90th percentile."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def main() -> None:
    """Run the benchmark and print a small table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=8, help="grids to time (prompts cycle)")
    args = parser.parse_args()
    engine = ProceduralEngine()
    time_grid(engine, PROMPTS[0], 0)  # warm-up: imports, lookup tables, thread start
    renders, encodes, totals, cpu, baselines = [], [], [], [], []
    for run in range(args.runs):
        images = baseline_images(run)
        baselines.append(time_baseline(images))
        cpu_start = time.process_time()
        render, enc = time_grid(engine, PROMPTS[run % len(PROMPTS)], run)
        cpu.append(time.process_time() - cpu_start)
        renders.append(render)
        encodes.append(enc)
        totals.append(render + enc)
    rows = [
        ("grid", totals),
        ("  generate", renders),
        ("  png", encodes),
        ("grid cpu (threads)", cpu),
        ("baseline", baselines),
    ]
    print(f"{'seconds per grid':18s} {'median':>8s} {'p90':>8s}   ({args.runs} runs)")
    for name, samples in rows:
        median, p90 = spread(samples)
        print(f"{name:18s} {median:8.3f} {p90:8.3f}")
    ratio = spread(totals)[0] / spread(baselines)[0]
    print(f"ratio grid/baseline (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
