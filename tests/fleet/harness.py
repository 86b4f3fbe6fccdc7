"""A fleet on this machine: API processes (``selfjourney serve``) and render workers
(``selfjourney worker``) as real subprocesses over one PostgreSQL database and a broker.

Usage::

    with Fleet(tmp_path, database_url, broker_url) as fleet:
        api = fleet.api()
        worker = fleet.worker()
        ...
        worker.kill()         # SIGKILL to its whole process group
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn

from tests.live import SELFJOURNEY, STARTUP_TIMEOUT, LiveServer, command_env, run_cli

#: Short leases and watchdog rounds, so that a dead worker's job comes back within seconds
#: (a lease long enough that a busy machine's renewals never miss it: a test that kills a
#: worker shortens it further).
FAST_RECOVERY = {
    "SELFJOURNEY_LEASE_SECONDS": "8",
    "SELFJOURNEY_WATCHDOG_INTERVAL": "0.5",
    "SELFJOURNEY_UPSCALER": "lanczos",
    "SELFJOURNEY_ALLOW_PRIVATE_URLS": "true",
    "SELFJOURNEY_WEBHOOK_BACKOFF": "0.3",
}


class WorkerProcess:
    """``selfjourney worker`` in its own process group, logging to a file."""

    def __init__(self, directory: Path, env: Mapping[str, str], args: list[str]) -> None:
        self.log_path = directory / f"worker-{time.monotonic_ns()}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(SELFJOURNEY), "worker", *args],
            cwd=directory,
            env=command_env(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> WorkerProcess:
        """Block until Celery says the worker consumes (its ``ready.`` line)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail(f"selfjourney worker exited {self.process.returncode} on start")
            if " ready." in self.log():
                return self
            time.sleep(0.05)
        self.fail(f"selfjourney worker was not ready within {timeout}s")

    def kill(self) -> None:
        """SIGKILL to the process and anything it started: a machine losing power."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> int:
        """SIGTERM: Celery's warm shutdown (finish the job in hand, then exit)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()
            self.fail("selfjourney worker ignored SIGTERM for 30 s")
        self._log.close()
        return self.process.returncode

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def fail(self, message: str) -> NoReturn:
        raise AssertionError(f"{message}\n--- worker log ({self.log_path}) ---\n{self.log()}")


class Fleet:
    """N API processes and M workers sharing a database, a broker and a data dir."""

    def __init__(
        self,
        directory: Path,
        database_url: str,
        broker_url: str,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.data_dir = directory / "data"
        self.env = {
            **FAST_RECOVERY,
            "SELFJOURNEY_QUEUE": "celery",
            "SELFJOURNEY_BROKER_URL": broker_url,
            "SELFJOURNEY_DATABASE_URL": database_url,
            "SELFJOURNEY_DATA_DIR": str(self.data_dir),
            **(env or {}),
        }
        self.apis: list[LiveServer] = []
        self.workers: list[WorkerProcess] = []
        directory.mkdir(parents=True, exist_ok=True)
        run_cli("db", "upgrade", cwd=directory, env=self.env)

    def create_key(self, credits: int, name: str = "fleet") -> str:
        done = run_cli(
            "keys",
            "create",
            "--name",
            name,
            "--credits",
            str(credits),
            cwd=self.directory,
            env=self.env,
        )
        return done.stdout.strip().splitlines()[-1]

    def api(self, env: Mapping[str, str] | None = None) -> LiveServer:
        """Start one more API process (all serve the same data dir: local storage)."""
        server = LiveServer(self.data_dir, env={**self.env, **(env or {})})
        self.apis.append(server.start())
        return server

    def worker(
        self, *args: str, env: Mapping[str, str] | None = None, wait: bool = True
    ) -> WorkerProcess:
        """Start one more worker; by default wait until it consumes."""
        process = WorkerProcess(self.directory, {**self.env, **(env or {})}, list(args))
        self.workers.append(process)
        return process.wait_ready() if wait else process

    def logs(self) -> str:
        parts = [f"--- api {api.url} ---\n{api.log()}" for api in self.apis]
        parts += [f"--- worker {w.log_path.name} ---\n{w.log()}" for w in self.workers]
        return "\n".join(parts)

    def __enter__(self) -> Fleet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for worker in self.workers:
            worker.kill()
        for api in self.apis:
            api.kill()
