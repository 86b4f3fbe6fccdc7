"""Accepted submissions per second with workers paused, against a bare FastAPI endpoint.

Goal: >= 0.3x the bare endpoint's rate, measured in the same run. selfjourney runs with
``workers=0``, so every POST /v2/images/generate is accepted (auth, validation, credit debit,
job row, enqueue) and nothing renders: only the API path is measured. The baseline is a bare
FastAPI POST endpoint that parses a small pydantic body and answers 202 JSON; it is a sync
``def`` like selfjourney's routes, so both pay the same one thread-pool hop for the endpoint.

Both apps are served for real: uvicorn in a spawned child process on 127.0.0.1 and a free port,
driven by one keep-alive ``httpx.Client`` per client thread. Requests alternate in rounds
(baseline, ours, baseline, ...) so that load from other work on the machine hits both sides
alike. Results are informational: the exit code is 0 whether or not the goal is met.

Usage::

    .venv/bin/python bench/bench_submit.py [--count 800] [--threads 4] [--rounds 4]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Literal

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from serving import listen, serve, serve_selfjourney, served, wait_ready

GOAL_RATIO = 0.3
WARMUP = 20
GENERATE = {"model": "midjourney", "prompt": "a lighthouse at dusk, volumetric fog"}


# --- serving (runs in the child process) -------------------------------------------------


class SubmitRequest(BaseModel):
    model: Literal["midjourney"]
    prompt: str


class Accepted(BaseModel):
    jobId: str
    status: str


def baseline_app() -> FastAPI:
    """The same request shape, parsed by pydantic, answered 202, and nothing else."""
    app = FastAPI()

    @app.post("/v2/images/generate", status_code=202)
    def generate(_body: SubmitRequest) -> Accepted:  # parsing and validating is the work
        return Accepted(jobId=str(uuid.uuid4()), status="QUEUED")

    return app


def serve_baseline(conn: Connection) -> None:
    """Child process: the bare endpoint; sends (port, "") back."""
    sock, port = listen()
    app = baseline_app()
    conn.send((port, ""))
    conn.close()
    serve(app, sock)


# --- driving (runs in this process) ------------------------------------------------------


@dataclass
class Target:
    """One served app and the headers every request to it carries."""

    url: str
    headers: dict[str, str]
    requests: int = 0
    seconds: float = 0.0
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, n: int) -> httpx.Client:
        while len(self.clients) <= n:
            self.clients.append(httpx.Client(base_url=self.url, headers=self.headers, timeout=30))
        return self.clients[n]

    def close(self) -> None:
        for client in self.clients:
            client.close()

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def submit(client: httpx.Client, count: int) -> None:
    for _ in range(count):
        response = client.post("/v2/images/generate", json=GENERATE)
        if response.status_code != 202:
            raise RuntimeError(f"generate answered {response.status_code}: {response.text}")


def burst(target: Target, count: int, threads: int) -> None:
    """``count`` submissions over ``threads`` clients at once; adds to the target's totals."""
    per_thread = math.ceil(count / threads)
    workers = [
        threading.Thread(target=submit, args=(target.client(n), per_thread)) for n in range(threads)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    target.seconds += time.perf_counter() - started
    target.requests += per_thread * threads


def compare(ours: Target, base: Target, count: int, threads: int, rounds: int) -> None:
    """Warm both up, then alternate rounds of ``count / rounds`` requests; print the rates."""
    for target in (base, ours):
        burst(target, WARMUP * threads, threads)
        target.requests, target.seconds = 0, 0.0
    for _ in range(rounds):
        burst(base, math.ceil(count / rounds), threads)
        burst(ours, math.ceil(count / rounds), threads)
    ratio = ours.rate / base.rate
    verdict = "PASS" if ratio >= GOAL_RATIO else "FAIL"
    print(f"client threads: {threads}")
    print(f"  selfjourney  {ours.requests:5d} accepted  {ours.rate:8.1f} req/s")
    print(f"  bare FastAPI {base.requests:5d} answered  {base.rate:8.1f} req/s")
    print(f"  ratio {ratio:.2f}x  goal >= {GOAL_RATIO}x: {verdict}")


def run(count: int, threads: int, rounds: int) -> None:
    """Serve both apps, compare them with 1 client thread and with ``threads``, clean up."""
    with (
        tempfile.TemporaryDirectory(prefix="sj-bench-submit-") as tmp,
        served(serve_selfjourney, tmp, 0) as (ours_url, key),
        served(serve_baseline) as (base_url, _),
    ):
        for n in sorted({1, threads}):
            ours, base = Target(ours_url, {"X-API-Key": key}), Target(base_url, {})
            try:
                wait_ready(ours.client(0), "/v2/models")
                wait_ready(base.client(0), "/docs")
                compare(ours, base, count, n, rounds)
            finally:
                ours.close()
                base.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=800, help="submissions per side and mode")
    parser.add_argument("--threads", type=int, default=4, help="client threads (also run: 1)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds")
    args = parser.parse_args()
    started = time.perf_counter()
    run(max(args.count, 1), max(args.threads, 1), max(args.rounds, 1))
    print(f"wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
