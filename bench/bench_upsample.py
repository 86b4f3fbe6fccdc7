"""Upsample latency: POST action -> COMPLETED seen by the client, beside a floor from the same run.

Goal: p50 <= 25 ms and <= 3x the floor. The floor is one bare FastAPI request round trip that
copies one stored grid image and commits one SQLite INSERT (WAL, synchronous=NORMAL), i.e. the
unavoidable work of an upsample without selfjourney's own layers.

Both apps are served for real: uvicorn in a child process (spawned, so the server has its own
GIL and the client's work does not compete with it) on 127.0.0.1 and a free port, driven by one
keep-alive ``httpx.Client``. Samples are taken in alternating rounds (floor, ours, floor, ...)
so that a burst of load from other work on the machine hits both sides alike.

The client polls GET /v2/jobs/{id} in a tight loop (``--poll-sleep 0`` by default; pass e.g.
0.001 to leave the server's worker threads more room). Results are informational: the exit code
is 0 whether or not the goals are met.

Usage::

    .venv/bin/python bench/bench_upsample.py [--count 200] [--rounds 4] [--poll-sleep 0]
"""

from __future__ import annotations

import argparse
import itertools
import math
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from serving import listen, serve, serve_selfjourney, served, wait_ready

GOAL_P50_MS = 25.0
GOAL_RATIO = 3.0
JOB_TIMEOUT = 10.0
GENERATE_TIMEOUT = 120.0
WARMUP = 10


# --- serving (runs in the child process) -------------------------------------------------


class CopyRequest(BaseModel):
    index: int


class CopyDone(BaseModel):
    id: str


def floor_app(data_dir: Path, source: Path) -> FastAPI:
    """One endpoint: copy ``source`` to a new file, INSERT one row in its own transaction."""
    images = data_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    db_path = data_dir / "floor.db"
    _connect(db_path).execute(
        "CREATE TABLE IF NOT EXISTS copies (id TEXT PRIMARY KEY, idx INTEGER, created REAL)"
    )
    local = threading.local()
    app = FastAPI()

    @app.post("/copy", status_code=201)
    def copy(body: CopyRequest) -> CopyDone:  # sync, like selfjourney's routes: one thread hop
        if not hasattr(local, "db"):
            local.db = _connect(db_path)
        copy_id = str(uuid.uuid4())
        shutil.copyfile(source, images / f"{copy_id}.png")
        local.db.execute("BEGIN IMMEDIATE")
        local.db.execute(
            "INSERT INTO copies (id, idx, created) VALUES (?, ?, ?)",
            (copy_id, body.index, time.time()),
        )
        local.db.execute("COMMIT")
        return CopyDone(id=copy_id)

    return app


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def serve_floor(conn: Connection, data_dir: str, source: str) -> None:
    """Child process: the floor app; sends (port, "") back."""
    sock, port = listen()
    app = floor_app(Path(data_dir), Path(source))
    conn.send((port, ""))
    conn.close()
    serve(app, sock)


# --- driving (runs in this process) ------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in 0..100."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def generate(client: httpx.Client) -> dict[str, Any]:
    """Submit one grid and wait for it; returns the COMPLETED job."""
    response = client.post(
        "/v2/images/generate", json={"model": "midjourney", "prompt": "a lighthouse at dusk"}
    )
    response.raise_for_status()
    job_id = response.json()["jobId"]
    deadline = time.monotonic() + GENERATE_TIMEOUT
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v2/jobs/{job_id}").json()
        if job["status"] == "COMPLETED":
            return job
        if job["status"] == "FAILED":
            raise RuntimeError(f"generate failed: {job['error']}")
        time.sleep(0.05)
    raise RuntimeError(f"generate did not finish in {GENERATE_TIMEOUT} s")


def stored_image(data_dir: Path, job: dict[str, Any]) -> Path:
    """The file behind the job's first image URL (``.../cdn/images/<name>``)."""
    name: str = job["result"]["images"][0].rsplit("/cdn/images/", 1)[1]
    return data_dir / "images" / name


@dataclass
class Upsampler:
    """Times upsamples of one parent grid and counts the polls they took."""

    client: httpx.Client
    parent_id: str
    poll_sleep: float
    polls: int = 0

    def once(self, index: int) -> float:
        """Seconds from before the POST until a GET shows COMPLETED."""
        body = {"parentJobId": self.parent_id, "action": "upsample", "index": index}
        t0 = time.perf_counter()
        response = self.client.post("/v2/images/midjourney/action", json=body)
        if response.status_code != 202:
            raise RuntimeError(f"action answered {response.status_code}: {response.text}")
        self._wait(response.json()["jobId"], t0 + JOB_TIMEOUT)
        return time.perf_counter() - t0

    def _wait(self, job_id: str, deadline: float) -> None:
        while time.perf_counter() < deadline:
            self.polls += 1
            status = self.client.get(f"/v2/jobs/{job_id}").json()["status"]
            if status == "COMPLETED":
                return
            if status == "FAILED":
                raise RuntimeError(f"upsample {job_id} failed")
            if self.poll_sleep:
                time.sleep(self.poll_sleep)
        raise RuntimeError(f"upsample {job_id} did not complete in {JOB_TIMEOUT} s")


def floor_once(client: httpx.Client, index: int) -> float:
    """Seconds for one round trip to the floor endpoint."""
    t0 = time.perf_counter()
    response = client.post("/copy", json={"index": index})
    elapsed = time.perf_counter() - t0
    if response.status_code != 201:
        raise RuntimeError(f"floor answered {response.status_code}: {response.text}")
    return elapsed


def sample(measure: Callable[[int], float], indexes: Iterator[int], count: int) -> list[float]:
    return [measure(next(indexes)) for _ in range(count)]


def summary(name: str, samples: Sequence[float]) -> str:
    p50, p90, p99 = (percentile(samples, q) * 1000 for q in (50, 90, 99))
    return f"{name:<12} n={len(samples):<4} p50 {p50:7.2f} ms  p90 {p90:7.2f} ms  p99 {p99:7.2f} ms"


def report(ours: Sequence[float], floor: Sequence[float], polls: int) -> None:
    ours_p50 = percentile(ours, 50) * 1000
    ratio = ours_p50 / (percentile(floor, 50) * 1000)
    print(summary("upsample", ours))
    print(summary("floor", floor))
    print(f"polls per upsample: {polls / len(ours):.2f} (GET /v2/jobs/{{id}} until COMPLETED)")
    print(f"p50 ratio upsample/floor: {ratio:.2f}x")
    verdict = "PASS" if ours_p50 <= GOAL_P50_MS else "FAIL"
    print(f"goal p50 <= {GOAL_P50_MS:.0f} ms: {verdict} ({ours_p50:.2f} ms)")
    verdict = "PASS" if ratio <= GOAL_RATIO else "FAIL"
    print(f"goal p50 <= {GOAL_RATIO:.0f}x floor: {verdict} ({ratio:.2f}x)")


def run(count: int, rounds: int, poll_sleep: float) -> None:
    """Serve both apps from one temp dir, measure, print, and clean up."""
    with tempfile.TemporaryDirectory(prefix="sj-bench-upsample-") as tmp:
        ours_dir, floor_dir = Path(tmp) / "selfjourney", Path(tmp) / "floor"
        with (
            served(serve_selfjourney, str(ours_dir), 2) as (ours_url, key),
            httpx.Client(base_url=ours_url, headers={"X-API-Key": key}, timeout=30) as ours,
        ):
            wait_ready(ours, "/v2/models")
            parent = generate(ours)
            source = stored_image(ours_dir, parent)
            print(f"grid image copied by both sides: {source.stat().st_size} bytes")
            with (
                served(serve_floor, str(floor_dir), str(source)) as (floor_url, _),
                httpx.Client(base_url=floor_url, timeout=30) as floor,
            ):
                wait_ready(floor, "/docs")
                upsampler = Upsampler(ours, parent["id"], poll_sleep)
                _measure(upsampler, floor, count, rounds, report)


def _measure(
    upsampler: Upsampler,
    floor: httpx.Client,
    count: int,
    rounds: int,
    done: Callable[[Sequence[float], Sequence[float], int], None],
) -> None:
    indexes = itertools.cycle(range(1, 5))
    sample(upsampler.once, indexes, WARMUP)
    sample(lambda i: floor_once(floor, i), indexes, WARMUP)
    upsampler.polls = 0
    ours: list[float] = []
    base: list[float] = []
    per_round = math.ceil(count / rounds)
    for _ in range(rounds):
        base += sample(lambda i: floor_once(floor, i), indexes, per_round)
        ours += sample(upsampler.once, indexes, per_round)
    done(ours, base, upsampler.polls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200, help="upsamples (and floor requests)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds")
    parser.add_argument("--poll-sleep", type=float, default=0.0, help="seconds between polls")
    args = parser.parse_args()
    started = time.perf_counter()
    run(max(args.count, 1), max(args.rounds, 1), max(args.poll_sleep, 0.0))
    print(f"wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
