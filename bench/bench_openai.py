"""The OpenAI dialect's synchronous layer: its overhead over submit-and-poll, and 100 waiting
clients at once.

1. Overhead. The same job (a grid of the embedded defaults: procedural engine, 1024x1024
   pictures, two worker threads) two ways, alternating in rounds within one run:
   ``POST /v2/images/generate`` then ``GET /v2/jobs/{id}`` every ``--poll-sleep`` seconds until
   COMPLETED (the client sees the job done), against ``POST /v1/images/generations`` with
   ``response_format: url`` (the answer is the job done: the stored picture's URL, nothing
   re-encoded). ``b64_json`` (the stored PNG base64-encoded into the JSON body, ~1.8 MB) is
   timed too, for information: it adds the transfer any base64 API pays. Goal: the /v1 p50
   at most 5 % or 20 ms (whichever is larger) over the /v2 p50.
2. Concurrency. A fresh server on the embedded defaults; 100 clients post a generation at once
   (the defaults: ``b64_json``, ``n`` 1) and wait. All must be answered 200; the server's
   threads and memory (VmRSS, VmHWM from /proc) are sampled while they wait. The same 100
   jobs through /v2 (submitted at once, polled every 0.5 s) on another fresh server are the
   baseline for threads and memory.

Servers run in a spawned child (``serving.py``); results are informational, never asserted.

Usage::

    .venv/bin/python bench/bench_openai.py [--count 40] [--rounds 40] [--poll-sleep 0.01]
                                           [--clients 100] [--only overhead|concurrency]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from serving import serve_selfjourney, served_child, wait_ready

WARMUP = 3
JOB_TIMEOUT = 300.0
PROMPTS = itertools.cycle(["a lighthouse at dusk", "a fox in the snow", "a harbour at night"])


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(name: str, samples: Sequence[float]) -> str:
    p50, p90, p99 = (percentile(samples, q) * 1000 for q in (50, 90, 99))
    return f"{name:<18} n={len(samples):<4} p50 {p50:8.1f} ms  p90 {p90:8.1f} ms  p99 {p99:8.1f} ms"


# --- 1. overhead ---------------------------------------------------------------------------


@dataclass
class Clients:
    client: httpx.Client
    key: str
    poll_sleep: float
    polls: int = 0

    def v2(self) -> float:
        """Submit, then poll until COMPLETED: seconds as the client sees them."""
        started = time.perf_counter()
        body = {"model": "midjourney", "prompt": next(PROMPTS)}
        response = self.client.post("/v2/images/generate", json=body, headers=self._v2)
        response.raise_for_status()
        job_id = response.json()["jobId"]
        while True:
            self.polls += 1
            status = self.client.get(f"/v2/jobs/{job_id}", headers=self._v2).json()["status"]
            if status == "COMPLETED":
                return time.perf_counter() - started
            if status == "FAILED" or time.perf_counter() - started > JOB_TIMEOUT:
                raise RuntimeError(f"job {job_id}: {status}")
            if self.poll_sleep:
                time.sleep(self.poll_sleep)

    def v1(self, response_format: str) -> float:
        """One synchronous generation: seconds until the whole answer is read."""
        started = time.perf_counter()
        body = {"prompt": next(PROMPTS), "response_format": response_format}
        response = self.client.post("/v1/images/generations", json=body, headers=self._bearer)
        response.raise_for_status()
        assert len(response.json()["data"]) == 1
        return time.perf_counter() - started

    @property
    def _v2(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    @property
    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def overhead(count: int, rounds: int, poll_sleep: float) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="sj-bench-openai-") as tmp,
        served_child(serve_selfjourney, tmp, 2) as (url, key, _pid),
        httpx.Client(base_url=url, timeout=JOB_TIMEOUT) as client,
    ):
        wait_ready(client, "/v2/models")
        clients = Clients(client, key, poll_sleep)
        ways: dict[str, Callable[[], float]] = {
            "v2 submit+poll": clients.v2,
            "v1 url": lambda: clients.v1("url"),
            "v1 b64_json": lambda: clients.v1("b64_json"),
        }
        samples: dict[str, list[float]] = {name: [] for name in ways}
        for way in ways.values():
            for _ in range(WARMUP):
                way()
        clients.polls = 0
        per_round = math.ceil(count / rounds)
        for _ in range(rounds):
            for name, way in ways.items():
                samples[name] += [way() for _ in range(per_round)]
    for name, values in samples.items():
        print(summary(name, values))
    polls = clients.polls / len(samples["v2 submit+poll"])
    print(f"polls per /v2 job: {polls:.1f} (GET every {poll_sleep * 1000:g} ms)")
    base, ours = (percentile(samples[n], 50) * 1000 for n in ("v2 submit+poll", "v1 url"))
    pairs = [
        (a - b) * 1000 for a, b in zip(samples["v1 url"], samples["v2 submit+poll"], strict=True)
    ]
    allowed = max(base * 0.05, 20.0)
    verdict = "PASS" if ours - base <= allowed else "FAIL"
    print(
        f"overhead of /v1 (url) at p50: {ours - base:+.1f} ms ({ours / base - 1:+.1%}); "
        f"goal <= {allowed:.1f} ms (5 % or 20 ms): {verdict}; "
        f"median of paired differences {percentile(pairs, 50):+.1f} ms"
    )


# --- 2. concurrency ------------------------------------------------------------------------


@dataclass
class Sampler:
    """Reads the server's /proc/<pid>/status on a thread until stopped."""

    pid: int
    interval: float = 0.1
    threads: list[int] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def read(self) -> dict[str, int]:
        values = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in ("Threads", "VmRSS", "VmHWM"):
                    values[name] = int(rest.split()[0])
        return values

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            values = self.read()
            self.threads.append(values["Threads"])
            self.rss_mb.append(values["VmRSS"] / 1024)

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        self._thread.join()


async def _v1(url: str, key: str, clients: int) -> list[tuple[int, float, int]]:
    """``clients`` synchronous generations at once, each waiting for its answer."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, timeout=JOB_TIMEOUT, limits=limits) as client:

        async def one(n: int) -> tuple[int, float, int]:
            started = time.perf_counter()
            body = {"prompt": f"a lighthouse, variation {n}"}
            response = await client.post("/v1/images/generations", json=body, headers=headers)
            return response.status_code, time.perf_counter() - started, len(response.content)

        return await asyncio.gather(*(one(n) for n in range(clients)))


async def _v2(url: str, key: str, clients: int) -> list[tuple[int, float, int]]:
    """The same jobs through /v2: submitted at once, then all polled every 0.5 s."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"X-API-Key": key}
    async with httpx.AsyncClient(base_url=url, timeout=JOB_TIMEOUT, limits=limits) as client:
        started = time.perf_counter()
        bodies = [
            {"model": "midjourney", "prompt": f"a lighthouse, variation {n}"}
            for n in range(clients)
        ]
        posts = [client.post("/v2/images/generate", json=body, headers=headers) for body in bodies]
        accepted = await asyncio.gather(*posts)
        waiting = {response.json()["jobId"]: 0.0 for response in accepted}
        while any(seconds == 0.0 for seconds in waiting.values()):
            await asyncio.sleep(0.5)
            for job_id in [job for job, seconds in waiting.items() if seconds == 0.0]:
                job = (await client.get(f"/v2/jobs/{job_id}", headers=headers)).json()
                if job["status"] in ("COMPLETED", "FAILED"):
                    waiting[job_id] = time.perf_counter() - started
        return [(202, seconds, 0) for seconds in waiting.values()]


def concurrency(clients: int) -> None:
    """``clients`` waiting at once on /v1, then the same jobs through /v2, each on a fresh
    server of the embedded defaults; the server's threads and memory sampled meanwhile."""
    for name, run in (("/v1/images/generations", _v1), ("/v2 submit+poll (baseline)", _v2)):
        with (
            tempfile.TemporaryDirectory(prefix="sj-bench-openai-") as tmp,
            served_child(serve_selfjourney, tmp, 2) as (url, key, pid),
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            wait_ready(client, "/v2/models")
            sampler = Sampler(pid)
            idle = sampler.read()
            started = time.perf_counter()
            with sampler:
                results = asyncio.run(run(url, key, clients))
            wall = time.perf_counter() - started
            done = sampler.read()
            jobs = client.get("/v2/jobs?limit=100", headers={"X-API-Key": key}).json()["jobs"]
        statuses = sorted({status for status, _, _ in results})
        answered = sum(1 for status, _, _ in results if status in (200, 202))
        print(
            f"{name}: {clients} clients, {answered} answered ({statuses}), "
            f"{len(jobs)} jobs, {wall:.1f} s"
        )
        print(summary("  time to done", [seconds for _, seconds, _ in results]))
        print(
            f"  server threads {idle['Threads']} idle, at most {max(sampler.threads)}; "
            f"VmRSS {idle['VmRSS'] / 1024:.0f} MB idle, at most {max(sampler.rss_mb):.0f} MB, "
            f"{done['VmRSS'] / 1024:.0f} MB after (VmHWM {done['VmHWM'] / 1024:.0f} MB)"
        )
        if run is _v1:
            body_mb = sum(size for _, _, size in results) / clients / 2**20
            print(f"  answer body {body_mb:.2f} MB each (b64_json, the default without a model)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=40, help="jobs timed per way")
    parser.add_argument(
        "--rounds", type=int, default=0, help="alternating rounds (default: one job each)"
    )
    parser.add_argument("--poll-sleep", type=float, default=0.01, help="seconds between polls")
    parser.add_argument("--clients", type=int, default=100, help="concurrent waiting clients")
    parser.add_argument("--only", choices=["overhead", "concurrency"], default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.only in (None, "overhead"):
        count = max(args.count, 1)
        overhead(count, args.rounds if args.rounds > 0 else count, max(args.poll_sleep, 0.0))
    if args.only in (None, "concurrency"):
        concurrency(max(args.clients, 1))
    print(f"wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
