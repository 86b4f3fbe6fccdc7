"""Per-job overhead of the diffusers engine: everything but the pipeline call.

Usage: ``python bench/bench_diffusers.py --runs 3``. Builds the tests' tiny random pipeline,
loads it through ``DiffusersEngine`` (``local_files_only``, CPU) and times whole engine calls
(generate, vary, pan, inpaint: four pictures each; refine: the creative upscale's tiled pass
over a picture 4x the side, 25 tiles) against the seconds spent inside the pipeline calls,
which the engine adds up in ``pipeline_seconds``. The overhead (sizing, seeds, PIL
conversions, resizes, pasting the kept pixels back, cutting and feathering tiles) should stay
under 10 % of the pipeline time. The tiny model is the worst case: a real model's pipeline
call is 100-1000x longer while the overhead stays the same.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from selfjourney.engines.base import Frame, Picture, Spec, no_progress
from selfjourney.engines.diffusers import DiffusersEngine

Job = Callable[[], list[Picture]]


def jobs(engine: DiffusersEngine, side: int) -> dict[str, Job]:
    spec = Spec(prompt="a lighthouse by the sea at dusk", seed=1, width=1024, height=1024)
    [source] = engine.generate(spec, 1, no_progress)
    mask = Image.new("L", source.image.size, 0)
    mask.paste(255, (side // 4, side // 4, 3 * side // 4, 3 * side // 4))
    frame = Frame(box=(0, 0, side + side // 2, side), size=(side + side // 2, side))
    enlarged = Picture(source.image.resize((side * 4, side * 4), Image.Resampling.LANCZOS))
    return {
        "generate": lambda: engine.generate(spec, 4, no_progress),
        "vary": lambda: engine.vary(source, spec, 0.6, 4, no_progress),
        "pan": lambda: engine.extend(source, spec, frame, 4, no_progress),
        "inpaint": lambda: engine.inpaint(source, spec, mask, 4, no_progress),
        "refine": lambda: [engine.refine(enlarged, spec, 0.3, no_progress)],
    }


def measure(engine: DiffusersEngine, job: Job, runs: int) -> tuple[float, float]:
    """Median seconds of the whole call and of the pipeline call inside it."""
    totals, pipes = [], []
    job()  # warm-up, not counted
    for _ in range(runs):
        started, inside = time.perf_counter(), engine.pipeline_seconds
        job()
        totals.append(time.perf_counter() - started)
        pipes.append(engine.pipeline_seconds - inside)
    return statistics.median(totals), statistics.median(pipes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--sides", type=int, nargs="+", default=[64, 128])
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' tiny model
    from tests.engines.tiny_diffusers import save_tiny_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        model = save_tiny_pipeline(Path(tmp))
        print(f"{'side':>5} {'job':>9} {'total ms':>9} {'pipeline ms':>12} {'overhead':>9}")
        for side in args.sides:
            engine = DiffusersEngine(
                str(model), steps=args.steps, local_files_only=True, device="cpu", max_side=side
            )
            for name, job in jobs(engine, side).items():
                total, pipe = measure(engine, job, args.runs)
                share = (total - pipe) / pipe
                print(
                    f"{side:>5} {name:>9} {total * 1000:>9.1f} {pipe * 1000:>12.1f} {share:>8.1%}"
                )


if __name__ == "__main__":
    main()
