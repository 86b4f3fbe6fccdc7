"""``selfjourney serve`` and the other commands as real subprocesses, for end-to-end tests.

The one place in the suite that sleep-polls: it waits on another process (a server starting,
a job rendering there), which offers nothing better to block on. Every wait has a deadline, and
a failed wait quotes the server's log.

Usage::

    with LiveServer(tmp_path / "data", env={"SELFJOURNEY_RENDER_DELAY": "3"}) as server:
        client = server.client(api_key)
        job_id = client.post("/v2/images/generate", json=...).json()["jobId"]
        wait_job(client, job_id, {"PROCESSING"}, timeout=10, server=server)
        server.kill()
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NoReturn

import httpx

#: The console script of the venv running the tests.
SELFJOURNEY = Path(sys.executable).parent / "selfjourney"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
POLL_INTERVAL = 0.05
CLI_TIMEOUT = 60.0
TERMINAL = frozenset({"COMPLETED", "FAILED"})


def command_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``SELFJOURNEY_*`` setting, plus ``env``.

    A developer's own settings (say ``SELFJOURNEY_DATA_DIR``) must not leak into a test.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SELFJOURNEY_")}
    return {**clean, **(env or {})}


def run_cli(
    *args: str | Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``selfjourney ARGS`` in ``cwd``; with ``check``, a non-zero exit fails the test."""
    done = subprocess.run(
        [str(SELFJOURNEY), *map(str, args)],
        cwd=cwd,
        env=command_env(env),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    if check:
        assert done.returncode == 0, (
            f"selfjourney {' '.join(map(str, args))} exited {done.returncode}\n"
            f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        )
    return done


def create_key(data_dir: Path, credits: int, name: str = "test") -> str:
    """A new key made by ``selfjourney keys create``; the key is its last stdout line."""
    args: list[str | Path] = [
        "keys",
        "create",
        "--name",
        name,
        "--credits",
        str(credits),
        "--data-dir",
        data_dir,
    ]
    return run_cli(*args, cwd=data_dir.parent).stdout.splitlines()[-1]


@dataclass(frozen=True)
class LedgerLine:
    """One ledger line of ``selfjourney credits show``."""

    delta: int
    reason: str
    balance_after: int
    job_id: str | None


_LEDGER_LINE = re.compile(
    r"^  \S+ \S+\s+(?P<delta>[+-]\d+)\s+(?P<reason>\w+)\s+= (?P<after>-?\d+)"
    r"(?:  job (?P<job>\S+))?$"
)


def credits_show(data_dir: Path, key_or_id: str) -> tuple[int, list[LedgerLine]]:
    """Balance and ledger as ``selfjourney credits show`` prints them; odd lines fail the test."""
    out = run_cli("credits", "show", key_or_id, "--data-dir", data_dir, cwd=data_dir.parent).stdout
    header, *lines = out.splitlines()
    balance = re.search(r": (-?\d+) credits$", header)
    assert balance is not None, f"no balance in {header!r}:\n{out}"
    entries = []
    for line in lines:
        match = _LEDGER_LINE.match(line)
        assert match is not None, f"unexpected ledger line {line!r} in:\n{out}"
        entries.append(
            LedgerLine(int(match["delta"]), match["reason"], int(match["after"]), match["job"])
        )
    return int(balance[1]), entries


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """``selfjourney serve`` on a free loopback port, logging to a file beside the data dir."""

    def __init__(
        self,
        data_dir: Path,
        *,
        workers: int = 1,
        env: Mapping[str, str] | None = None,
        args: Collection[str] = (),
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.data_dir = data_dir
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.workers = workers
        self.env = dict(env or {})
        self.args = list(args)
        self.log_path = data_dir.parent / f"serve-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "the server was not started"
        return self._process

    def start(self) -> LiveServer:
        """Start the process and block until ``GET /v2/models`` answers 200."""
        command = [
            str(SELFJOURNEY),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--workers",
            str(self.workers),
            *self.args,
        ]
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            command,
            cwd=self.data_dir.parent,
            env=command_env(self.env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(base_url=self.url, timeout=2.0) as probe:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    self.fail(f"selfjourney serve exited {self.process.returncode} on start")
                try:
                    if probe.get("/v2/models").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(POLL_INTERVAL)
        self.fail(f"selfjourney serve did not answer on {self.url} within {self.startup_timeout}s")

    def client(self, api_key: str | None = None) -> httpx.Client:
        """An HTTP client for this server; close it (``with``) when done."""
        headers = {"X-API-Key": api_key} if api_key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0)

    def kill(self) -> None:
        """SIGKILL: a crash, with no shutdown code run. Idempotent."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        self._reap(STOP_TIMEOUT)

    def stop(self) -> int:
        """SIGTERM and wait for a graceful exit; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self._reap(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            self.fail(f"selfjourney serve ignored SIGTERM for {STOP_TIMEOUT}s")
        return self.process.returncode

    def _reap(self, timeout: float) -> None:
        if self._process is not None:
            self._process.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        if self._log is not None:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def fail(self, message: str) -> NoReturn:
        """Fail the test, quoting the server log."""
        raise AssertionError(f"{message}\n--- server log ({self.log_path}) ---\n{self.log()}")

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()


def wait_job(
    client: httpx.Client,
    job_id: str,
    statuses: Collection[str],
    timeout: float = 30.0,
    server: LiveServer | None = None,
) -> dict[str, Any]:
    """Poll ``GET /v2/jobs/{id}`` until its status is one of ``statuses``; return the job."""
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(f"/v2/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job = response.json()
        if job["status"] in statuses:
            return job
        if job["status"] in TERMINAL:
            break
        time.sleep(POLL_INTERVAL)
    message = f"job {job_id} never reached {sorted(statuses)} (waited up to {timeout}s): {job}"
    if server is not None:
        server.fail(message)
    raise AssertionError(message)
