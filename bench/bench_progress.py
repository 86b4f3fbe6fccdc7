"""Live progress across processes: how long after a worker process reports a job's progress an
API process streams it (``GET /v2/jobs/{id}/events``), with the Redis feed and without it.

Two pairs of processes run side by side, each pair on its own PostgreSQL schema: an API process
(``build_embedded`` with no worker thread, served by uvicorn) and a worker process (the worker
side alone, rendering the jobs it is told to). One pair shares a Redis (``RedisFeed``); the
other has none, so its API process hears of a change only when it reads the row again (every
second, ``REREAD_SECONDS``): the polling fallback, the baseline. Jobs alternate between the
pairs, one at a time, after one warm-up job each.

A job's engine reports ``--steps`` progress steps ``--step`` seconds apart. The worker process
records the wall time of every publish and the job's (status, progress) then; the client
timestamps every event of the stream. A report's latency is the time until the stream shows
that state or a later one (the progress reached the API process); both clocks are this
machine's. Results are informational, never asserted.

Usage::

    .venv/bin/python bench/bench_progress.py [--jobs 15] [--steps 10] [--step 0.1]
                                             [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                             [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from serving import STARTUP_TIMEOUT, listen, serve, served_child

JOB_TIMEOUT = 120.0
RANK = {"QUEUED": 0, "PROCESSING": 1, "COMPLETED": 2, "FAILED": 2}

#: (wall time, status, progress): one publish of the worker, or one event of the stream.
Point = tuple[float, str, int]


def settings_for(data_dir: str, db_url: str, redis_url: str | None, **values: Any) -> Any:
    from selfjourney.config import Settings

    return Settings(
        data_dir=Path(data_dir), database_url=db_url, redis_url=redis_url, workers=0, **values
    )


def serve_api(conn: Connection, data_dir: str, db_url: str, redis_url: str | None) -> None:
    """Child process: an API process with no worker thread; sends (port, api key) back."""
    from selfjourney.embedded import build_embedded

    sock, port = listen()
    settings = settings_for(data_dir, db_url, redis_url, public_url=f"http://127.0.0.1:{port}")
    runtime = build_embedded(settings)
    _, key = runtime.store.accounts.create("bench", 1_000_000)
    conn.send((port, key))
    conn.close()
    serve(runtime.app(), sock)


def run_worker(conn: Connection, data_dir: str, db_url: str, steps: int, step: float) -> None:
    """Child process: the worker side alone; renders each job id it receives, sends back the
    job's publishes as ``Point``s, until it receives None."""
    from selfjourney.dialects.registry import webhook_styles
    from selfjourney.engines.base import Picture, ProgressFn, Spec
    from selfjourney.engines.procedural import ProceduralEngine
    from selfjourney.engines.upscale import Lanczos
    from selfjourney.feed.select import build_feed
    from selfjourney.storage.local import LocalStorage
    from selfjourney.store import Store
    from selfjourney.worker.side import build_worker_side

    redis_url = conn.recv()
    settings = settings_for(data_dir, db_url, redis_url)
    store = Store.connect(settings.db_url)
    feed = build_feed(settings)
    points: list[Point] = []

    class Timed:
        """The process's feed, noting when each publish went out and what it announced."""

        def publish(self, job_id: str) -> None:
            at = time.time()
            feed.publish(job_id)
            job = store.jobs.get(job_id)  # after the publish: the next change is far off
            assert job is not None
            points.append((at, job.status.value, job.progress))

        def watch(self, job_id: str) -> Any:
            return feed.watch(job_id)

    class Stepping(ProceduralEngine):
        def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
            gate = threading.Event()
            for n in range(1, steps + 1):
                progress(n / (steps + 1))
                gate.wait(step)
            return super().generate(spec, count, progress)

    side = build_worker_side(
        settings,
        store=store,
        storage=LocalStorage(Path(data_dir), settings.base_url),
        styles=webhook_styles(settings),
        engine=Stepping(),
        upscaler=Lanczos(),
        feed=Timed(),
    )
    conn.send("ready")
    while (job_id := conn.recv()) is not None:
        side.worker.run(job_id)
        conn.send(points[:])
        points.clear()
    side.stop()
    feed.close()
    store.close()


@dataclass
class Pair:
    """An API process and a worker process on one schema; ``redis_url`` None: polling."""

    name: str
    url: str
    key: str
    worker: Connection
    samples: list[float]


class Stream(threading.Thread):
    """A job's event stream, each event with the wall time it arrived."""

    def __init__(self, pair: Pair, job_id: str) -> None:
        super().__init__(daemon=True)
        self.url = f"{pair.url}/v2/jobs/{job_id}/events"
        self.key = pair.key
        self.points: list[Point] = []
        self.opened = threading.Event()

    def run(self) -> None:
        headers = {"X-API-Key": self.key}
        with httpx.stream("GET", self.url, headers=headers, timeout=JOB_TIMEOUT) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    job = httpx.Response(200, content=line[5:]).json()
                    self.points.append((time.time(), job["status"], job["progress"]))
                    self.opened.set()


def latencies(reports: Sequence[Point], events: Sequence[Point]) -> list[float]:
    """For each report, the time until the stream showed it or a later state."""
    out = []
    for at, status, progress in reports:
        key = (RANK[status], progress)
        seen = [t for t, s, p in events if (RANK[s], p) >= key]
        if seen:
            out.append(min(seen) - at)
    return out


def one_job(pair: Pair, http: httpx.Client) -> list[float]:
    body = {"model": "midjourney", "prompt": "a lighthouse at dusk"}
    response = http.post(
        f"{pair.url}/v2/images/generate", json=body, headers={"X-API-Key": pair.key}
    )
    response.raise_for_status()
    job_id = response.json()["jobId"]
    stream = Stream(pair, job_id)
    stream.start()
    if not stream.opened.wait(JOB_TIMEOUT):
        raise RuntimeError(f"{pair.name}: the stream of {job_id} never opened")
    pair.worker.send(job_id)
    if not pair.worker.poll(JOB_TIMEOUT):
        raise RuntimeError(f"{pair.name}: the worker did not finish {job_id}")
    reports: list[Point] = pair.worker.recv()
    stream.join(JOB_TIMEOUT)
    return latencies(reports, stream.points)


@contextmanager
def schema(admin_url: str) -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield f"{admin_url}?options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@contextmanager
def worker_child(
    data_dir: str, db_url: str, args: argparse.Namespace, redis_url: str | None
) -> Iterator[Connection]:
    """A spawned worker process; yields the pipe that sends it job ids."""
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    process = ctx.Process(target=run_worker, args=(theirs, data_dir, db_url, args.steps, args.step))
    process.start()
    try:
        mine.send(redis_url)
        if not mine.poll(STARTUP_TIMEOUT) or mine.recv() != "ready":
            raise RuntimeError("the worker process did not start")
        yield mine
        mine.send(None)
        process.join(30)
    finally:
        if process.is_alive():
            process.kill()
            process.join()


@contextmanager
def pair(name: str, args: argparse.Namespace, redis_url: str | None) -> Iterator[Pair]:
    with (
        tempfile.TemporaryDirectory() as data_dir,
        schema(args.postgres) as db_url,
        served_child(serve_api, data_dir, db_url, redis_url) as (url, key, _pid),
        worker_child(data_dir, db_url, args, redis_url) as worker,
    ):
        yield Pair(name, url, key, worker, [])


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(name: str, samples: Sequence[float]) -> str:
    p50, p90, p99 = (percentile(samples, q) * 1000 for q in (50, 90, 99))
    worst = max(samples) * 1000
    return (
        f"{name:<8} n={len(samples):<4} p50 {p50:7.1f} ms  p90 {p90:7.1f} ms  "
        f"p99 {p99:7.1f} ms  max {worst:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=15, help="jobs per pair (after one warm-up)")
    parser.add_argument("--steps", type=int, default=10, help="progress steps per job")
    parser.add_argument("--step", type=float, default=0.1, help="seconds between steps")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    started = time.monotonic()
    with (
        pair("redis", args, args.redis) as fast,
        pair("polling", args, None) as slow,
        httpx.Client(timeout=30) as http,
    ):
        for p in (fast, slow):
            one_job(p, http)  # warm-up: connections, first render
        for _ in range(args.jobs):
            for p in (fast, slow):
                p.samples += one_job(p, http)
    print(
        f"{args.jobs} jobs per pair, {args.steps} steps {args.step} s apart, "
        f"{time.monotonic() - started:.0f} s"
    )
    for p in (fast, slow):
        print(summary(p.name, p.samples))
    ratio50 = percentile(slow.samples, 50) / percentile(fast.samples, 50)
    ratio99 = percentile(slow.samples, 99) / percentile(fast.samples, 99)
    print(f"polling / redis: p50 x{ratio50:.1f}, p99 x{ratio99:.1f}")


if __name__ == "__main__":
    main()
