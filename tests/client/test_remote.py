"""The HTTP client on its own, against ``httpx.MockTransport`` servers: following a job on its
event stream or by polling, error messages, downloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from selfjourney.client.actions import action_request
from selfjourney.client.config import Connection
from selfjourney.client.errors import ClientError, JobFailed, ServerError, Unreachable
from selfjourney.client.remote import Client, Job, ensure_completed

SERVER = "http://sj.test"
KEY = "afk_test"
JOB = "3f6c0d3e-0000-4000-8000-000000000001"


def job_body(status: str, progress: int = 0, **extra: Any) -> dict[str, Any]:
    result = None
    if status == "COMPLETED":
        images = [f"{SERVER}/cdn/images/{JOB}-{n}.png" for n in range(1, 5)]
        result = {"images": images, "gridUrl": f"{SERVER}/cdn/images/{JOB}-grid.png"}
    return {"id": JOB, "status": status, "progress": progress, "result": result, **extra}


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> Client:
    connection = Connection(SERVER, KEY, "--key")
    return Client(connection, transport=httpx.MockTransport(handler), poll_interval=0)


class Script:
    """A server whose job reads go through ``states`` one per read, staying on the last."""

    def __init__(self, states: list[dict[str, Any]], stream: bytes | None = None) -> None:
        self.states = iter(states)
        self.current = states[0]
        self.stream = stream
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        assert request.headers["X-API-Key"] == KEY
        if request.url.path.endswith("/events"):
            if self.stream is None:
                return httpx.Response(404, json={"error": "Not Found"})
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, headers=headers, content=self.stream)
        self.current = next(self.states, self.current)
        return httpx.Response(200, json=self.current)


def states() -> list[dict[str, Any]]:
    return [
        job_body("QUEUED"),
        job_body("PROCESSING", 40),
        job_body("PROCESSING", 40),
        job_body("PROCESSING", 90),
        job_body("COMPLETED", 100),
    ]


def test_polling_reports_each_change_once_and_ends_completed() -> None:
    server = Script(states())
    seen: list[tuple[str, int]] = []
    with client_for(server) as client:
        job = client.wait(JOB, on_update=lambda job: seen.append((job.status, job.progress)))
    assert seen == [("QUEUED", 0), ("PROCESSING", 40), ("PROCESSING", 90), ("COMPLETED", 100)]
    assert ensure_completed(job).images[0].endswith(f"{JOB}-1.png")
    assert server.paths.count(f"/v2/jobs/{JOB}/events") == 1  # asked once, then polled


def test_a_server_without_a_stream_is_not_asked_again() -> None:
    server = Script([job_body("QUEUED"), job_body("COMPLETED", 100)] * 2)
    with client_for(server) as client:
        client.wait(JOB)
        client.wait(JOB)
    assert server.paths.count(f"/v2/jobs/{JOB}/events") == 1


def test_each_stream_event_is_a_cue_to_read_the_job() -> None:
    events = b": keep-alive\n\nevent: progress\ndata: {}\n\ndata: a\ndata: b\n\ndata: x\n\n"
    server = Script(
        [job_body("QUEUED"), job_body("PROCESSING", 50), job_body("COMPLETED", 100)], events
    )
    seen: list[int] = []
    with client_for(server) as client:
        job = client.wait(JOB, on_update=lambda job: seen.append(job.progress))
    assert job.status == "COMPLETED" and seen == [0, 50, 100]
    # Read once before the stream, then once per event (a comment is none, two data lines one).
    assert server.paths == [f"/v2/jobs/{JOB}", f"/v2/jobs/{JOB}/events", *[f"/v2/jobs/{JOB}"] * 2]


def test_a_stream_that_ends_early_falls_back_to_polling() -> None:
    server = Script(
        [job_body("QUEUED"), job_body("PROCESSING", 10), job_body("COMPLETED", 100)],
        b"data: {}\n\n",
    )
    with client_for(server) as client:
        assert client.wait(JOB).status == "COMPLETED"


def test_a_failed_job_raises_with_the_servers_reason() -> None:
    failed = job_body("FAILED", 0, error="Image generation failed: out of memory")
    with client_for(Script([job_body("QUEUED"), failed])) as client:
        job = client.wait(JOB)
    with pytest.raises(JobFailed, match=f"job {JOB} failed: Image generation failed: out of"):
        ensure_completed(job)


def test_wait_gives_up_at_its_timeout_with_the_job_as_it_is() -> None:
    with client_for(Script([job_body("QUEUED")])) as client:
        job = client.wait(JOB, timeout=0)
    assert job.status == "QUEUED"
    with pytest.raises(ClientError, match="still QUEUED"):
        ensure_completed(job)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            {"error": "Validation error", "details": {"index": ["must be one of 1, 2, 3, 4"]}},
            "Validation error: index: must be one of 1, 2, 3, 4 (HTTP 400)",
        ),
        (
            402,
            {"error": "Insufficient credits", "creditsRequired": 16, "creditsAvailable": 3},
            "Insufficient credits: this costs 16, 3 left (HTTP 402)",
        ),
        (401, {"error": "Invalid API key"}, "Invalid API key (the key from --key) (HTTP 401)"),
        (
            400,
            {"errors": [{"msg": "x"}], "message": "type: Input should be '2x'", "code": "BAD"},
            "type: Input should be '2x' (HTTP 400)",
        ),
        (502, "<html>Bad Gateway</html>", "<html>Bad Gateway</html> (HTTP 502)"),
    ],
)
def test_refusals_carry_the_servers_own_message(status: int, body: Any, message: str) -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    with client_for(handler) as client, pytest.raises(ServerError) as refused:
        client.imagine("a fox")
    assert str(refused.value) == message
    assert refused.value.status == status


def test_v1_routes_get_the_key_in_authorization() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"task_id": JOB})

    with client_for(handler) as client:
        assert client.submit(action_request(JOB, "upscale", "4x")) == JOB
    assert seen[0].headers["Authorization"] == KEY and "X-API-Key" not in seen[0].headers
    assert json.loads(seen[0].content) == {"parent_task_id": JOB, "type": "4x"}


def test_an_unreachable_server_is_named_with_a_hint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with client_for(handler) as client, pytest.raises(Unreachable) as refused:
        client.jobs()
    assert str(refused.value) == (
        f"cannot reach the selfjourney server at {SERVER}: connection refused "
        "(is it running? `make serve` starts one; or pass --server URL)"
    )


def served_images(request: httpx.Request) -> httpx.Response:
    assert "X-API-Key" not in request.headers  # image URLs may be on another host
    return httpx.Response(200, content=request.url.path.encode())


def test_download_saves_the_grid_then_each_image_named_as_its_url(tmp_path: Path) -> None:
    job = Job.from_v2(job_body("COMPLETED", 100))
    with client_for(served_images) as client:
        paths = client.download(job, tmp_path / "new" / "dir")
    names = [f"{JOB}-grid.png", *(f"{JOB}-{n}.png" for n in range(1, 5))]
    assert paths == [tmp_path / "new" / "dir" / name for name in names]
    assert paths[1].read_bytes() == f"/cdn/images/{JOB}-1.png".encode()


def test_download_never_writes_outside_the_directory(tmp_path: Path) -> None:
    body = job_body("COMPLETED", 100)
    body["result"] = {"images": [f"{SERVER}/x/..%2F..%2Fevil.png", f"{SERVER}/"]}
    with client_for(served_images) as client:
        paths = client.download(Job.from_v2(body), tmp_path)
    assert [path.name for path in paths] == [f"{JOB}-0.png", f"{JOB}-1.png"]
    assert all(path.parent == tmp_path for path in paths)


def test_an_expired_job_has_nothing_to_download(tmp_path: Path) -> None:
    body = {**job_body("COMPLETED", 100), "result": None, "expired": True}
    with client_for(served_images) as client, pytest.raises(ClientError, match="expired"):
        client.download(Job.from_v2(body), tmp_path)
