"""Fleet processes for the benchmarks: ``selfjourney serve`` and ``selfjourney worker`` as real
subprocesses, started with ``python -m selfjourney.cli`` from this interpreter (so the code on
``PYTHONPATH``, not an installed console script, is what runs), plus the services they share:
a fresh PostgreSQL database, an emptied Redis database, a purged RabbitMQ queue.

Usage::

    with fresh_database() as database_url, Processes(tmp) as procs:
        env = fleet_env(tmp / "data", database_url, REDIS_BROKER)
        cli(env, "db", "upgrade")
        key = create_key(env)
        api = procs.api(env)
        procs.worker(env, "--concurrency", "1")
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_BROKER = "redis://127.0.0.1:6379/14"
RABBITMQ_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
STARTUP_TIMEOUT = 90.0
CREDITS = 10_000_000


def _src() -> str:
    """The ``src`` directory of the checkout this file belongs to."""
    return str(Path(__file__).resolve().parent.parent / "src")


def command_env(env: Mapping[str, str]) -> dict[str, str]:
    """This environment without any ``SELFJOURNEY_*``, with our ``src`` first on the path."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SELFJOURNEY_")}
    path = os.pathsep.join(p for p in (_src(), clean.get("PYTHONPATH", "")) if p)
    return {**clean, "PYTHONPATH": path, **env}


def cli(env: Mapping[str, str], *args: str) -> str:
    """Run ``selfjourney ARGS`` to the end; return its stdout (raise on a non-zero exit)."""
    done = subprocess.run(
        [sys.executable, "-m", "selfjourney.cli", *args],
        env=command_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"selfjourney {' '.join(args)}: {done.returncode}\n{done.stderr}")
    return done.stdout


def create_key(env: Mapping[str, str], credits: int = CREDITS) -> str:
    return cli(env, "keys", "create", "--name", "bench", "--credits", str(credits)).split()[-1]


def fleet_env(data_dir: Path, database_url: str, broker_url: str) -> dict[str, str]:
    """The fleet's settings; leases, watchdog and PNG level stay at their defaults."""
    return {
        "SELFJOURNEY_QUEUE": "celery",
        "SELFJOURNEY_BROKER_URL": broker_url,
        "SELFJOURNEY_DATABASE_URL": database_url,
        "SELFJOURNEY_DATA_DIR": str(data_dir),
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    """One ``selfjourney`` command in its own process group, logging to a file."""

    def __init__(self, log_path: Path, env: Mapping[str, str], args: list[str]) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "selfjourney.cli", *args],
            cwd=log_path.parent,
            env=command_env(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def check_alive(self, what: str) -> None:
        if self.process.poll() is not None:
            tail = self.log()[-3000:]
            raise RuntimeError(f"{what} exited {self.process.returncode}:\n{tail}")

    def kill(self) -> None:
        """SIGKILL to the process group: a machine losing power."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (a worker's warm stop), SIGKILL after ``timeout``."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        if not self._log.closed:
            self._log.close()


class Api(Process):
    """``selfjourney serve --port P``: waits until ``GET /v2/models`` answers 200."""

    def __init__(self, directory: Path, env: Mapping[str, str], args: list[str]) -> None:
        self.port = free_port()
        super().__init__(
            directory / f"api-{self.port}.log",
            env,
            ["serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=2.0) as probe:
            while True:
                self.check_alive("selfjourney serve")
                try:
                    if probe.get("/v2/models").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"selfjourney serve not ready in {STARTUP_TIMEOUT} s")
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Worker(Process):
    """``selfjourney worker``: waits until Celery says it consumes (its ``ready.`` line)."""

    def __init__(self, directory: Path, env: Mapping[str, str], args: list[str]) -> None:
        super().__init__(directory / f"worker-{time.monotonic_ns()}.log", env, ["worker", *args])
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while " ready." not in self.log():
            self.check_alive("selfjourney worker")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"selfjourney worker not ready in {STARTUP_TIMEOUT} s")
            time.sleep(0.1)


class Processes:
    """Every process started through it is killed on exit."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Process] = []
        directory.mkdir(parents=True, exist_ok=True)

    def api(self, env: Mapping[str, str], *args: str) -> Api:
        api = Api(self.directory, env, list(args))
        self.started.append(api)
        return api

    def worker(self, env: Mapping[str, str], *args: str) -> Worker:
        worker = Worker(self.directory, env, list(args))
        self.started.append(worker)
        return worker

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for process in self.started:
            if process.process.poll() is None:
                process.kill()


def cpu_of(marker: str) -> float:
    """User + system CPU seconds of every process whose command line contains ``marker``
    (a PostgreSQL backend's shows its database's name); one that ends between two calls
    drops out, so compare calls over a steady pool of connections."""
    total = 0.0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker not in (proc / "cmdline").read_bytes().decode(errors="replace"):
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"sjbench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_broker(broker_url: str) -> None:
    """Redis: flush its database; RabbitMQ: purge our queue (left from an earlier run)."""
    if broker_url.startswith("redis"):
        import redis

        redis.Redis.from_url(broker_url, socket_timeout=3).flushdb()
        return
    from kombu import Connection, Queue

    with Connection(broker_url, connect_timeout=3) as connection:
        connection.ensure_connection(max_retries=1)
        with contextlib.suppress(Exception):  # not declared yet: nothing to drop
            Queue("selfjourney.default", channel=connection.channel()).purge()


class Database:
    """Read-only looks at the jobs table (the job row is the truth)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())

    def statuses(self) -> dict[str, int]:
        """Count of jobs per status."""
        return dict(self.rows("SELECT status, count(*) FROM jobs GROUP BY status"))

    def close(self) -> None:
        self.engine.dispose()
