"""midjourney-proxy ``list-by-condition`` with 100 ids, beside one ``GET /v2/jobs/{id}`` in the
same run.

A relay (new-api) polls all its unfinished tasks of a channel every 15 s in one
``POST /mj/task/list-by-condition``; the batch must cost far less than 100 single reads. The
tasks here are the most expensive to render: SUCCESS upsamples (14 buttons each) and grids
(9 buttons, four image URLs).

selfjourney is served for real: uvicorn in a spawned child process (its own GIL) on
127.0.0.1 and a free port, SQLite in a temp data dir, driven by one keep-alive
``httpx.Client``. Samples alternate in rounds (batch, single, batch, ...) after an uncounted
warm-up, so load from other work hits both alike. Results are informational: the exit code is
0 whatever they are.

Usage::

    .venv/bin/python bench/bench_list_by_condition.py [--count 200] [--rounds 4] [--ids 100]
"""

from __future__ import annotations

import argparse
import itertools
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from serving import serve_selfjourney, served, wait_ready

GRIDS = 4
WARMUP = 10
GENERATE_TIMEOUT = 120.0


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in 0..100."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _submitted(response: httpx.Response) -> str:
    body = response.json()
    if response.status_code != 200 or body["code"] not in (1, 22):
        raise RuntimeError(f"submit refused: {response.status_code} {response.text}")
    task_id: str = body["result"]
    return task_id


def _wait(client: httpx.Client, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + GENERATE_TIMEOUT
    while time.monotonic() < deadline:
        task: dict[str, Any] = client.get(f"/mj/task/{task_id}/fetch").json()
        if task["status"] == "SUCCESS":
            return task
        if task["status"] == "FAILURE":
            raise RuntimeError(f"task {task_id} failed: {task['failReason']}")
        time.sleep(0.05)
    raise RuntimeError(f"task {task_id} did not finish in {GENERATE_TIMEOUT} s")


def make_tasks(client: httpx.Client, count: int) -> list[str]:
    """``GRIDS`` finished grids, then upsamples of them (inline, SUCCESS at once): ``count``."""
    grids = [
        _wait(client, _submitted(client.post("/mj/submit/imagine", json={"prompt": f"a bay {n}"})))
        for n in range(GRIDS)
    ]
    ids = [grid["id"] for grid in grids]
    buttons = itertools.cycle(
        (grid["id"], button["customId"])
        for grid in grids
        for button in grid["buttons"]
        if button["label"].startswith("U")
    )
    while len(ids) < count:
        task_id, custom_id = next(buttons)
        body = {"taskId": task_id, "customId": custom_id}
        ids.append(_submitted(client.post("/mj/submit/action", json=body)))
    return ids


def timed(call: Callable[[], httpx.Response]) -> float:
    t0 = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - t0
    if response.status_code != 200:
        raise RuntimeError(f"answered {response.status_code}: {response.text[:200]}")
    return elapsed


def summary(name: str, samples: Sequence[float]) -> str:
    p50, p90, p99 = (percentile(samples, q) * 1000 for q in (50, 90, 99))
    return f"{name:<28} n={len(samples):<4} p50 {p50:7.2f} ms  p90 {p90:7.2f} ms  p99 {p99:7.2f} ms"


def run(count: int, rounds: int, ids_per_batch: int) -> None:
    with tempfile.TemporaryDirectory(prefix="sj-bench-list-") as tmp:
        data_dir = Path(tmp) / "selfjourney"
        with (
            served(serve_selfjourney, str(data_dir), 2) as (url, key),
            httpx.Client(
                base_url=url, headers={"mj-api-secret": key, "X-API-Key": key}, timeout=30
            ) as client,
        ):
            wait_ready(client, "/v2/models")
            ids = make_tasks(client, ids_per_batch)
            answered = client.post("/mj/task/list-by-condition", json={"ids": ids}).json()
            assert [task["id"] for task in answered] == ids, "the batch lost tasks"
            size = len(client.post("/mj/task/list-by-condition", json={"ids": ids}).content)
            print(f"{len(ids)} SUCCESS tasks ({GRIDS} grids, the rest upsamples), {size} bytes")
            singles = itertools.cycle(ids)
            measures: dict[str, Callable[[], float]] = {
                "batch": lambda: timed(
                    lambda: client.post("/mj/task/list-by-condition", json={"ids": ids})
                ),
                "single": lambda: timed(lambda: client.get(f"/v2/jobs/{next(singles)}")),
                "mj fetch": lambda: timed(lambda: client.get(f"/mj/task/{next(singles)}/fetch")),
            }
            samples = _alternate(measures, count, rounds)
    report(samples, len(ids))


def _alternate(
    measures: dict[str, Callable[[], float]], count: int, rounds: int
) -> dict[str, list[float]]:
    for measure in measures.values():
        for _ in range(WARMUP):
            measure()
    samples: dict[str, list[float]] = {name: [] for name in measures}
    per_round = math.ceil(count / rounds)
    for _ in range(rounds):
        for name, measure in measures.items():
            samples[name] += [measure() for _ in range(per_round)]
    return samples


def report(samples: dict[str, list[float]], ids: int) -> None:
    batch, single = samples["batch"], samples["single"]
    print(summary(f"list-by-condition ({ids} ids)", batch))
    print(summary("GET /v2/jobs/{id}", single))
    print(summary("GET /mj/task/{id}/fetch", samples["mj fetch"]))
    for q in (50, 99):
        ratio = percentile(batch, q) / percentile(single, q)
        print(
            f"p{q}: batch = {ratio:.1f} single reads; {ids} single reads would take "
            f"{ids * percentile(single, q) * 1000:.0f} ms, {ids / ratio:.1f}x the batch"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200, help="samples of each request")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds")
    parser.add_argument("--ids", type=int, default=100, help="ids per list-by-condition")
    args = parser.parse_args()
    started = time.perf_counter()
    run(max(args.count, 1), max(args.rounds, 1), max(args.ids, GRIDS))
    print(f"wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
