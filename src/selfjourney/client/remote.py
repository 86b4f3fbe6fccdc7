"""A selfjourney server over HTTP: submit, follow a job to its end, download its images.

Speaks only the public API (Apiframe v2, plus v1 for the actions v2 lacks), so it works
against any selfjourney server, local or remote. A job is followed on
``GET /v2/jobs/{id}/events`` when the server streams it, else by polling ``GET /v2/jobs/{id}``.

Usage::

    with Client(connection) as client:
        job = client.wait(client.imagine("a fox", aspect_ratio="16:9"), on_update=print)
        paths = client.download(ensure_completed(job), Path("out"))
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from selfjourney import __version__
from selfjourney.client.actions import Submission, Wire
from selfjourney.client.config import Connection
from selfjourney.client.errors import (
    ClientError,
    JobFailed,
    ServerError,
    Unreachable,
    server_message,
)

TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
#: Seconds between two polls of a job when the server does not stream it.
POLL_INTERVAL = 0.2
#: Seconds a job stream may stay silent before the client polls instead.
STREAM_IDLE = 15.0
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


@dataclass(frozen=True)
class Job:
    """A job as ``GET /v2/jobs/{id}`` shows it (``raw`` is that JSON)."""

    id: str
    status: str
    progress: int
    images: tuple[str, ...]
    grid_url: str | None
    error: str | None
    credit_cost: int | None
    created_at: str | None
    expired: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_v2(cls, body: dict[str, Any]) -> Job:
        result = body.get("result") or {}
        return cls(
            id=str(body["id"]),
            status=str(body["status"]),
            progress=int(body.get("progress") or 0),
            images=tuple(str(url) for url in result.get("images") or ()),
            grid_url=result.get("gridUrl"),
            error=body.get("error"),
            credit_cost=body.get("creditCost"),
            created_at=body.get("createdAt"),
            expired=bool(body.get("expired")),
            raw=body,
        )

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def urls(self) -> tuple[str, ...]:
        """The grid (when there is one), then each image."""
        return ((self.grid_url,) if self.grid_url else ()) + self.images


def ensure_completed(job: Job) -> Job:
    """The job if it COMPLETED; a FAILED (or unfinished) one raises with the server's reason."""
    if job.status == "COMPLETED":
        return job
    if job.status in TERMINAL:
        raise JobFailed(job.id, job.error)
    raise ClientError(f"job {job.id} is still {job.status} ({job.progress}%)")


class Client:
    """One connection's HTTP client. ``transport`` is the seam tests use."""

    def __init__(
        self,
        connection: Connection,
        *,
        transport: httpx.BaseTransport | None = None,
        poll_interval: float = POLL_INTERVAL,
        timeout: float = 30.0,
    ) -> None:
        self.connection = connection
        self.poll_interval = poll_interval
        self._timeout = timeout
        self._streams = True  # until the server shows it has no job stream
        self._http = httpx.Client(
            base_url=connection.server,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": f"selfjourney-client/{__version__}"},
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- submitting -------------------------------------------------------------------------

    def imagine(self, prompt: str, aspect_ratio: str | None = None) -> str:
        """Submit a 2x2 grid; returns the new job's id."""
        body: dict[str, Any] = {"model": "midjourney", "prompt": prompt}
        if aspect_ratio:
            body["midjourneyParams"] = {"aspect_ratio": aspect_ratio}
        return self.submit(Submission("/v2/images/generate", body))

    def submit(self, submission: Submission) -> str:
        """POST a submission (see ``actions.action_request``); returns the new job's id."""
        answer = self._call("POST", submission.path, submission.wire, json=submission.body)
        job_id = answer.get("jobId") or answer.get("task_id")
        if not isinstance(job_id, str):
            raise ClientError(f"the server answered {submission.path} without a job id: {answer}")
        return job_id

    # -- reading ----------------------------------------------------------------------------

    def job(self, job_id: str) -> Job:
        return Job.from_v2(self._call("GET", f"/v2/jobs/{job_id}"))

    def jobs(self, limit: int = 20, status: str | None = None) -> list[Job]:
        """The key's jobs, newest first."""
        params: dict[str, str | int] = {"limit": limit}
        if status:
            params["status"] = status.upper()
        answer = self._call("GET", "/v2/jobs", params=params)
        return [Job.from_v2(job) for job in answer.get("jobs", [])]

    def wait(
        self,
        job_id: str,
        on_update: Callable[[Job], None] | None = None,
        timeout: float | None = None,
    ) -> Job:
        """Follow a job until it ends (or ``timeout`` seconds pass); ``on_update`` sees each
        change. Returns the last state seen: check it with ``ensure_completed``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        watcher = _Watcher(on_update)
        job = watcher.saw(self.job(job_id))
        if job.terminal:
            return job
        if self._streams:
            followed = self._follow_stream(job_id, watcher, deadline)
            if followed is not None:
                return followed
        return self._poll(job_id, watcher, deadline)

    def _follow_stream(self, job_id: str, watcher: _Watcher, deadline: float | None) -> Job | None:
        """Each event on the job's stream is a cue to read the job; None means "poll instead"
        (no stream on this server, or it went quiet or broke)."""
        headers = {**self._auth("v2"), "Accept": "text/event-stream"}
        timeout = httpx.Timeout(self._timeout, read=STREAM_IDLE)
        try:
            with self._http.stream(
                "GET", f"/v2/jobs/{job_id}/events", headers=headers, timeout=timeout
            ) as response:
                kind = response.headers.get("content-type", "")
                if response.status_code != 200 or not kind.startswith("text/event-stream"):
                    self._streams = response.status_code not in (404, 405)
                    return None
                for _ in _sse_events(response.iter_lines()):
                    job = watcher.saw(self.job(job_id))
                    if job.terminal or _past(deadline):
                        return job
        except httpx.TransportError:
            return None
        return None

    def _poll(self, job_id: str, watcher: _Watcher, deadline: float | None) -> Job:
        while True:
            time.sleep(self.poll_interval)
            job = watcher.saw(self.job(job_id))
            if job.terminal or _past(deadline):
                return job

    # -- images -----------------------------------------------------------------------------

    def download(self, job: Job, out_dir: Path) -> list[Path]:
        """Save the grid (if any) and every image into ``out_dir``, named as in their URLs."""
        if not job.urls:
            why = "they expired and were purged" if job.expired else "it has none"
            raise ClientError(f"job {job.id} has no images to download: {why}")
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for n, url in enumerate(job.urls):
            path = out_dir / _file_name(url, f"{job.id}-{n}.png")
            path.write_bytes(self.image(url))
            paths.append(path)
        return paths

    def image(self, url: str) -> bytes:
        """An image's bytes; image URLs need no key, so none is sent (it may be another host)."""
        response = self._send("GET", url)
        if response.is_error:
            raise ServerError(response.status_code, f"cannot download {url}")
        return response.content

    # -- HTTP -------------------------------------------------------------------------------

    def _auth(self, wire: Wire) -> dict[str, str]:
        key = self.connection.key
        return {"X-API-Key": key} if wire == "v2" else {"Authorization": key}

    def _call(self, method: str, path: str, wire: Wire = "v2", **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, path, headers=self._auth(wire), **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_error:
            fallback = response.text.strip()[:200] or response.reason_phrase
            message = server_message(body, fallback)
            if response.status_code in (401, 403):
                message += f" (the key from {self.connection.key_source})"
            raise ServerError(response.status_code, message)
        if not isinstance(body, dict):
            raise ClientError(f"{method} {path}: the server's answer is not a JSON object")
        return body

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(self.connection.server, _reason(exc)) from None


class _Watcher:
    """Passes a job on to the caller's callback when its status or progress changed."""

    def __init__(self, on_update: Callable[[Job], None] | None) -> None:
        self._on_update = on_update
        self._last: tuple[str, int] | None = None

    def saw(self, job: Job) -> Job:
        state = (job.status, job.progress)
        if self._on_update is not None and state != self._last:
            self._on_update(job)
        self._last = state
        return job


def _sse_events(lines: Iterator[str]) -> Iterator[str]:
    """The data of each server-sent event (comments and keep-alives are skipped)."""
    data: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            data.append(line[5:].lstrip())
        elif not line and data:
            yield "\n".join(data)
            data = []


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _file_name(url: str, fallback: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name if _SAFE_NAME.match(name) else fallback


def _reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc)).strip()
    return (text or type(exc).__name__).lower()
