"""The fleet (``SELFJOURNEY_QUEUE=celery``) as real processes: API processes
(``selfjourney serve``) and render workers (``selfjourney worker``) over PostgreSQL and a broker.

1. ``grids``: procedural grids per second with 1 worker process against 2 (``--concurrency 1``
   each), same run, alternating 1, 2, 1, 2 to cancel drift. Each round: the workers started and
   warmed (one grid each) before the clock; ``--grids`` imagines submitted at once to one API
   process; the clock stops when the database shows them all COMPLETED. Goal: >= 1.7x.
2. ``submit``: accepted submissions per second through 2 API processes against 1, on
   PostgreSQL, no worker (jobs stay queued). ``--clients`` asyncio clients with keep-alive, all
   on one process, then spread over both; alternating rounds.
3. ``load``: ``--load-clients`` clients, each looping submit, poll until done, upsample U1,
   poll until done, for ``--seconds``; first on the embedded defaults (``selfjourney serve``,
   SQLite, in-process workers), then on the fleet (2 API processes + 2 workers, PostgreSQL +
   Redis). Errors, lost jobs (accepted but not COMPLETED in the database once the clients
   stop), p50/p99 of submit, action and GET.
4. ``recovery``: default lease (30 s) and watchdog (10 s); kill -9 the worker rendering a job
   (``SELFJOURNEY_RENDER_DELAY`` keeps it mid-render) while a second one runs; seconds from the
   kill until the job is PROCESSING again (attempt 2, on the survivor) and until COMPLETED; on
   Redis and on RabbitMQ.

Services on loopback: PostgreSQL (a fresh database per part, dropped after), Redis db 14
(flushed), RabbitMQ (our queue purged). Results are informational, never asserted.

Usage::

    PYTHONPATH=src:. .venv/bin/python bench/bench_fleet.py [--only grids,submit,load,recovery]
        [--grids 40] [--rounds 4] [--clients 16] [--submit-seconds 10] [--load-clients 50]
        [--seconds 60] [--poll 0.5] [--render-delay 8]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fleet_procs import (
    RABBITMQ_BROKER,
    REDIS_BROKER,
    Database,
    Processes,
    Worker,
    cli,
    cpu_of,
    create_key,
    empty_broker,
    fleet_env,
    fresh_database,
)

GRID = {"model": "midjourney", "prompt": "a lighthouse at dusk, volumetric fog"}
GOAL_WORKERS = 1.7
PARTS = ("grids", "submit", "load", "recovery")
DRAIN_TIMEOUT = 300.0


def percentile(samples: Sequence[float], q: float) -> float:
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


async def submit_all(url: str, key: str, count: int) -> list[str]:
    """``count`` imagines at once; their job ids."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(
        base_url=url, headers={"X-API-Key": key}, timeout=60, limits=limits
    ) as client:
        answers = await asyncio.gather(
            *(client.post("/v2/images/generate", json=GRID) for _ in range(count))
        )
    for answer in answers:
        if answer.status_code != 202:
            raise RuntimeError(f"generate answered {answer.status_code}: {answer.text}")
    return [answer.json()["jobId"] for answer in answers]


def wait_done(db: Database, ids: Sequence[str], timeout: float = DRAIN_TIMEOUT) -> int:
    """Block until none of ``ids`` is QUEUED or PROCESSING; return how many COMPLETED."""
    deadline = time.monotonic() + timeout
    wanted = set(ids)
    while True:
        rows = db.rows("SELECT id, status FROM jobs WHERE status IN ('COMPLETED', 'FAILED')")
        ended = {job_id: status for job_id, status in rows if job_id in wanted}
        if len(ended) == len(wanted) or time.monotonic() > deadline:
            return sum(status == "COMPLETED" for status in ended.values())
        time.sleep(0.05)


# --- 1. grids per second, 1 worker vs 2 --------------------------------------------------------


def _render_grids(count: int) -> None:
    """One process's share of the ceiling: ``count`` grids rendered and PNG-encoded, as a
    worker does, with no database, broker or HTTP."""
    from bench_grid import time_grid
    from selfjourney.engines.procedural import ProceduralEngine

    engine = ProceduralEngine()
    for n in range(count):
        time_grid(engine, "a quiet valley at dusk", n)


def ceiling(grids: int) -> float:
    """What two processes can give on this machine at all: the same renders in 2 plain
    processes vs 1 (the fleet's ratio cannot beat it)."""
    context = multiprocessing.get_context("spawn")
    seconds: dict[int, list[float]] = {}
    for n in (1, 2, 1, 2):
        started = time.perf_counter()
        with context.Pool(n) as pool:
            pool.map(_render_grids, [grids // n] * n)
        seconds.setdefault(n, []).append(time.perf_counter() - started)
    one, two = (grids / statistics.median(seconds[n]) for n in (1, 2))
    return two / one


def part_grids(tmp: Path, grids: int, rounds: int) -> None:
    print(f"\n== 1. grids per second: 1 vs 2 worker processes ({grids} grids a round) ==")
    totals = {1: [0, 0.0], 2: [0, 0.0]}
    with fresh_database() as database_url, Processes(tmp / "grids") as procs:
        empty_broker(REDIS_BROKER)
        env = fleet_env(tmp / "grids" / "data", database_url, REDIS_BROKER)
        cli(env, "db", "upgrade")
        key = create_key(env)
        api = procs.api(env)
        db = Database(database_url)
        try:
            for n in [1 + (r % 2) for r in range(rounds)]:
                workers = [procs.worker(env, "--concurrency", "1") for _ in range(n)]
                warm = asyncio.run(submit_all(api.url, key, 2 * n))
                wait_done(db, warm)
                load = load_average()
                started = time.perf_counter()
                ids = asyncio.run(submit_all(api.url, key, grids))
                completed = wait_done(db, ids)
                seconds = time.perf_counter() - started
                for worker in workers:
                    worker.stop()
                totals[n][0] += completed
                totals[n][1] += seconds
                print(
                    f"  {n} worker(s): {completed}/{grids} COMPLETED in {seconds:6.2f} s  "
                    f"{completed / seconds:5.2f} grids/s  (load {load})",
                    flush=True,
                )
        finally:
            db.close()
    one, two = (totals[n][0] / totals[n][1] for n in (1, 2))
    verdict = "PASS" if two / one >= GOAL_WORKERS else "FAIL"
    limit = ceiling(min(grids, 16))
    print(
        f"SUMMARY grids: 1 worker {one:.2f} grids/s, 2 workers {two:.2f} grids/s, "
        f"ratio {two / one:.2f}x (goal >= {GOAL_WORKERS}x: {verdict}); this machine's ceiling, "
        f"the same renders in 2 plain processes vs 1: {limit:.2f}x"
    )


# --- 2. accepted submissions per second, 1 API process vs 2 -----------------------------------


async def submit_for(
    urls: Sequence[str], keys: Sequence[str], clients: int, seconds: float
) -> list[int]:
    """``clients`` loops posting imagines for ``seconds``, spread over ``urls`` and ``keys``;
    their answers' status codes (0: a transport error)."""
    pools = [
        httpx.AsyncClient(
            base_url=url,
            timeout=60,
            limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients),
        )
        for url in urls
    ]
    codes: list[int] = []
    end = time.perf_counter() + seconds

    async def loop(client: httpx.AsyncClient, key: str) -> None:
        headers = {"X-API-Key": key}
        while time.perf_counter() < end:
            try:
                answer = await client.post("/v2/images/generate", json=GRID, headers=headers)
                codes.append(answer.status_code)
            except httpx.TransportError:
                codes.append(0)

    try:
        await asyncio.gather(
            *(loop(pools[i % len(pools)], keys[i % len(keys)]) for i in range(clients))
        )
    finally:
        for pool in pools:
            await pool.aclose()
    return codes


def part_submit(tmp: Path, clients: int, seconds: float, rounds: int, keys: int) -> None:
    print(
        f"\n== 2. accepted submissions per second: 1 vs 2 API processes, {clients} clients, "
        f"{keys} API key(s) =="
    )
    totals = {1: [0, 0.0, 0], 2: [0, 0.0, 0]}
    with fresh_database() as database_url, Processes(tmp / "submit") as procs:
        empty_broker(REDIS_BROKER)
        env = fleet_env(tmp / "submit" / "data", database_url, REDIS_BROKER)
        cli(env, "db", "upgrade")
        keyring = [create_key(env) for _ in range(keys)]
        database = database_url.rsplit("/", 1)[1]
        apis = [procs.api(env), procs.api(env)]
        asyncio.run(submit_for([api.url for api in apis], keyring, clients, 1.0))  # warm-up
        per_round = seconds / max(1, rounds // 2)
        for n in [1 + (r % 2) for r in range(rounds)]:
            load = load_average()
            cpu = time.process_time()
            server_cpu = [api.cpu_seconds() for api in apis[:n]]
            postgres_cpu = cpu_of(f"postgres {database}")
            started = time.perf_counter()
            urls = [api.url for api in apis[:n]]
            codes = asyncio.run(submit_for(urls, keyring, clients, per_round))
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            postgres_cpu = cpu_of(f"postgres {database}") - postgres_cpu
            server = " + ".join(
                f"{100 * (api.cpu_seconds() - before) / elapsed:.0f}"
                for api, before in zip(apis, server_cpu, strict=False)
            )
            accepted = codes.count(202)
            totals[n][0] += accepted
            totals[n][1] += elapsed
            totals[n][2] += len(codes) - accepted
            print(
                f"  {n} API process(es): {accepted} accepted in {elapsed:5.2f} s  "
                f"{accepted / elapsed:6.1f} req/s  errors {len(codes) - accepted}  "
                f"CPU: API {server} %, PostgreSQL {100 * postgres_cpu / elapsed:.0f} %, "
                f"client {100 * cpu / elapsed:.0f} %  (load {load})",
                flush=True,
            )
        db = Database(database_url)
        queued = db.statuses().get("QUEUED", 0)
        db.close()
    one, two = (totals[n][0] / totals[n][1] for n in (1, 2))
    errors = totals[1][2] + totals[2][2]
    print(
        f"SUMMARY submit: 1 API process {one:.1f} req/s, 2 API processes {two:.1f} req/s, "
        f"ratio {two / one:.2f}x; errors {errors}; {queued} jobs QUEUED in the database"
    )


# --- 3. load: embedded defaults vs the fleet ---------------------------------------------------


@dataclass
class Load:
    """What the clients saw."""

    submit: list[float] = field(default_factory=list)
    action: list[float] = field(default_factory=list)
    get: list[float] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cycles: int = 0


@dataclass
class LoadClient:
    """One client: submit, poll until done, upsample U1, poll until done; again until ``end``."""

    client: httpx.AsyncClient
    load: Load
    end: float
    poll: float
    deadline: float

    async def timed(
        self, samples: list[float], method: str, path: str, **kw: Any
    ) -> httpx.Response:
        started = time.perf_counter()
        response = await self.client.request(method, path, **kw)
        samples.append(time.perf_counter() - started)
        return response

    async def until_done(self, job_id: str) -> bool:
        while time.perf_counter() < self.deadline:
            response = await self.timed(self.load.get, "GET", f"/v2/jobs/{job_id}")
            if response.status_code != 200:
                self.load.errors.append(f"GET {response.status_code}")
                return False
            status: str = response.json()["status"]
            if status in ("COMPLETED", "FAILED"):
                if status == "FAILED":
                    self.load.errors.append("a job FAILED")
                return status == "COMPLETED"
            await asyncio.sleep(self.poll)
        self.load.errors.append("a job was not done in time")
        return False

    async def post(self, samples: list[float], path: str, body: dict[str, Any]) -> str | None:
        """POST ``body``; the accepted job's id, or None (an error, recorded)."""
        response = await self.timed(samples, "POST", path, json=body)
        if response.status_code not in (200, 202):
            self.load.errors.append(f"POST {path} {response.status_code}")
            return None
        job_id: str = response.json()["jobId"]
        self.load.accepted.append(job_id)
        return job_id

    async def cycle(self) -> None:
        grid = await self.post(self.load.submit, "/v2/images/generate", GRID)
        if grid is None:
            await asyncio.sleep(self.poll)
            return
        if not await self.until_done(grid):
            return
        body = {"parentJobId": grid, "action": "upsample", "index": 1}
        upsample = await self.post(self.load.action, "/v2/images/midjourney/action", body)
        if upsample is not None and await self.until_done(upsample):
            self.load.cycles += 1

    async def run(self) -> None:
        while time.perf_counter() < self.end:
            try:
                await self.cycle()
            except httpx.TransportError as exc:
                self.load.errors.append(repr(exc))


async def drive(urls: Sequence[str], key: str, clients: int, seconds: float, poll: float) -> Load:
    load = Load()
    pools = [
        httpx.AsyncClient(
            base_url=url,
            headers={"X-API-Key": key},
            timeout=120,
            limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients),
        )
        for url in urls
    ]
    end = time.perf_counter() + seconds
    try:
        await asyncio.gather(
            *(
                LoadClient(pools[i % len(pools)], load, end, poll, end + DRAIN_TIMEOUT).run()
                for i in range(clients)
            )
        )
    finally:
        for pool in pools:
            await pool.aclose()
    return load


def report_load(
    name: str, load: Load, seconds: float, elapsed: float, db: Database, warm: int
) -> None:
    completed = wait_done(db, load.accepted, timeout=60)
    lost = len(load.accepted) - completed
    in_db = sum(db.statuses().values()) - warm

    def ms(samples: list[float]) -> str:
        return f"{percentile(samples, 50) * 1000:.1f} / {percentile(samples, 99) * 1000:.1f} ms"

    print(
        f"SUMMARY load {name}: {len(load.accepted)} jobs accepted ({load.cycles} grid+U1 cycles) "
        f"in {seconds:.0f} s (+{elapsed - seconds:.1f} s to finish the cycles in flight; "
        f"{load.cycles / elapsed:.2f} cycles/s), {completed} COMPLETED in the database "
        f"({in_db} jobs there besides the warm-up), "
        f"lost {lost}, errors {len(load.errors)}; p50/p99 submit {ms(load.submit)}, "
        f"action {ms(load.action)}, GET {ms(load.get)} "
        f"(n = {len(load.submit)} / {len(load.action)} / {len(load.get)})",
        flush=True,
    )
    for error in sorted(set(load.errors))[:5]:
        print(f"  error: {error} x{load.errors.count(error)}")


def run_load(
    name: str, urls: Sequence[str], key: str, db: Database, args: tuple[int, float, float]
) -> None:
    """Warm each API process (4 grids at once, waited for), then drive the clients."""
    clients, seconds, poll = args
    warm = [job for url in urls for job in asyncio.run(submit_all(url, key, 4))]
    wait_done(db, warm)
    load = load_average()
    started = time.perf_counter()
    result = asyncio.run(drive(urls, key, clients, seconds, poll))
    elapsed = time.perf_counter() - started
    print(f"  {name}, load average {load} (warm-up: {len(warm)} grids, not counted)")
    report_load(name.split(":")[0], result, seconds, elapsed, db, len(warm))


def part_load(tmp: Path, clients: int, seconds: float, poll: float) -> None:
    print(f"\n== 3. load: {clients} clients, {seconds:.0f} s, polling every {poll} s ==")
    with Processes(tmp / "embedded") as procs:
        data = tmp / "embedded" / "data"
        env = {"SELFJOURNEY_DATA_DIR": str(data)}
        key = create_key(env)
        api = procs.api(env)
        db = Database(f"sqlite:///{(data / 'selfjourney.db').resolve()}")
        name = "embedded: 1 `selfjourney serve` (SQLite, 2 render threads)"
        run_load(name, [api.url], key, db, (clients, seconds, poll))
        db.close()
    with fresh_database() as database_url, Processes(tmp / "fleet") as procs:
        empty_broker(REDIS_BROKER)
        env = fleet_env(tmp / "fleet" / "data", database_url, REDIS_BROKER)
        cli(env, "db", "upgrade")
        key = create_key(env)
        apis = [procs.api(env), procs.api(env)]
        for _ in range(2):
            procs.worker(env, "--concurrency", "1")
        db = Database(database_url)
        name = "fleet: 2 API processes + 2 workers (PostgreSQL + Redis)"
        run_load(name, [api.url for api in apis], key, db, (clients, seconds, poll))
        db.close()


# --- 4. recovery from a killed worker ----------------------------------------------------------


def until(db: Database, job_id: str, check: Any, timeout: float) -> tuple[str, int] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ((status, attempt),) = db.rows("SELECT status, attempt FROM jobs WHERE id = :id", id=job_id)
        if check(status, attempt):
            return status, attempt
        time.sleep(0.05)
    return None


def recovery(tmp: Path, broker: str, delay: float) -> tuple[float, float] | None:
    name = "redis" if broker.startswith("redis") else "rabbitmq"
    with fresh_database() as database_url, Processes(tmp / f"recovery-{name}") as procs:
        empty_broker(broker)
        env = fleet_env(tmp / f"recovery-{name}" / "data", database_url, broker)
        cli(env, "db", "upgrade")
        key = create_key(env)
        api = procs.api(env)
        slow = {**env, "SELFJOURNEY_RENDER_DELAY": str(delay)}
        workers = [procs.worker(slow), procs.worker(slow)]
        db = Database(database_url)
        try:
            (job_id,) = asyncio.run(submit_all(api.url, key, 1))
            if until(db, job_id, lambda s, _a: s == "PROCESSING", 60) is None:
                raise RuntimeError("the job never started")
            time.sleep(min(2.0, delay / 4))  # well inside the render
            doomed: list[Worker] = [w for w in workers if "] received" in w.log()]
            if len(doomed) != 1:
                raise RuntimeError(f"{len(doomed)} workers received the job")
            survivor = next(w for w in workers if w is not doomed[0])
            doomed[0].kill()
            killed = time.perf_counter()
            again = until(db, job_id, lambda s, a: s == "PROCESSING" and a >= 2, 180)
            again_s = time.perf_counter() - killed
            done = until(db, job_id, lambda s, _a: s in ("COMPLETED", "FAILED"), 180)
            done_s = time.perf_counter() - killed
            requeued = "lost its worker; queued again" in survivor.log()
            print(
                f"  {name}: PROCESSING again {again_s:5.1f} s after the kill ({again}), "
                f"ended {done_s:5.1f} s after ({done}); survivor's watchdog requeued it: "
                f"{requeued}",
                flush=True,
            )
            if again is None or done is None or done[0] != "COMPLETED":
                return None
            return again_s, done_s
        finally:
            db.close()


def part_recovery(tmp: Path, delay: float) -> None:
    print(
        f"\n== 4. recovery: kill -9 the rendering worker (lease 30 s, watchdog 10 s, "
        f"render delay {delay:.0f} s) =="
    )
    results = {broker: recovery(tmp, url, delay) for broker, url in RECOVERY_BROKERS.items()}
    parts = []
    for broker, result in results.items():
        if result is None:
            parts.append(f"{broker} did not recover")
        else:
            parts.append(
                f"{broker} {result[0]:.1f} s to PROCESSING, {result[1]:.1f} s to COMPLETED"
            )
    print(f"SUMMARY recovery (from the kill; render {delay:.0f} s + ~0.5 s): " + "; ".join(parts))


RECOVERY_BROKERS = {"redis": REDIS_BROKER, "rabbitmq": RABBITMQ_BROKER}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--only", default=",".join(PARTS), help="comma list of " + ", ".join(PARTS))
    parser.add_argument("--grids", type=int, default=40, help="grids per round (part 1)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (parts 1, 2)")
    parser.add_argument("--clients", type=int, default=16, help="submitting clients (part 2)")
    parser.add_argument("--submit-seconds", type=float, default=10, help="per setup (part 2)")
    parser.add_argument("--keys", type=int, default=1, help="API keys the clients share (part 2)")
    parser.add_argument("--load-clients", type=int, default=50, help="clients (part 3)")
    parser.add_argument("--seconds", type=float, default=60, help="load duration (part 3)")
    parser.add_argument("--poll", type=float, default=0.5, help="poll interval, s (part 3)")
    parser.add_argument("--render-delay", type=float, default=8, help="seconds (part 4)")
    args = parser.parse_args()
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    print(f"cores {os.cpu_count()}, load average {load_average()}")
    with tempfile.TemporaryDirectory(prefix="sj-bench-fleet-") as tmp:
        if "grids" in parts:
            part_grids(Path(tmp), args.grids, args.rounds)
        if "submit" in parts:
            part_submit(Path(tmp), args.clients, args.submit_seconds, args.rounds, args.keys)
        if "load" in parts:
            part_load(Path(tmp), args.load_clients, args.seconds, args.poll)
        if "recovery" in parts:
            part_recovery(Path(tmp), args.render_delay)
    print(f"wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
