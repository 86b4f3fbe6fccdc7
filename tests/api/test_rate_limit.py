"""Requests a minute per key: a 429 with ``Retry-After`` in each dialect's envelope, nothing
charged or created, counted across API processes that share Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from selfjourney.embedded import Embedded, build_embedded
from selfjourney.service.ratelimit import RateLimit
from tests.conftest import make_settings

REDIS_URL = "redis://127.0.0.1:6379/3"
LIMIT = 2


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _v2(body: dict[str, Any]) -> None:
    assert set(body) == {"error"} and body["error"].startswith("Rate limit exceeded")


def _v1(body: dict[str, Any]) -> None:
    assert body["code"] == "RATE_LIMIT_ERROR" and body["message"].startswith("Rate limit")
    assert body["errors"] == [{"msg": body["message"]}]


def _midapi(body: dict[str, Any]) -> None:
    assert body["code"] == 429 and body["data"] is None and body["msg"].startswith("Rate limit")


def _mjproxy(body: dict[str, Any]) -> None:
    assert (body["code"], body["result"], body["properties"]) == (23, None, {})
    assert body["description"].startswith("Rate limit")


def _openai(body: dict[str, Any]) -> None:
    error = body["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "requests",
        "rate_limit_exceeded",
        None,
    )


#: dialect: (key headers, a cheap authenticated read, a submission, its body, HTTP status,
#: the envelope's check)
DIALECTS: dict[str, tuple[Callable[[str], dict[str, str]], str, str, dict[str, Any], int, Any]] = {
    "apiframe_v2": (
        lambda key: {"X-API-Key": key},
        "/v2/me",
        "/v2/images/generate",
        {"model": "midjourney", "prompt": "a fox"},
        429,
        _v2,
    ),
    "apiframe_v1": (
        lambda key: {"Authorization": key},
        "/account",
        "/imagine",
        {"prompt": "a fox"},
        429,
        _v1,
    ),
    "midapi": (
        lambda key: {"Authorization": f"Bearer {key}"},
        "/api/v1/common/credit",
        "/api/v1/mj/generate",
        {"taskType": "mj_txt2img", "prompt": "a fox"},
        200,  # midapi answers HTTP 200 to everything, the status in the body's code
        _midapi,
    ),
    "mjproxy": (
        lambda key: {"mj-api-secret": key},
        "/mj/task/list",
        "/mj/submit/imagine",
        {"prompt": "a fox"},
        429,
        _mjproxy,
    ),
    "openai": (
        lambda key: {"Authorization": f"Bearer {key}"},
        "/v1/models",
        "/v1/images/generations",
        {"prompt": "a fox", "response_format": "url"},
        429,
        _openai,
    ),
}


def _build(data_dir: Path, **overrides: Any) -> Embedded:
    return build_embedded(make_settings(data_dir, rate_limit_per_minute=LIMIT, **overrides))


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[Embedded, TestClient]]:
    runtime = _build(tmp_path / "data")
    with TestClient(runtime.app()) as client:
        yield runtime, client


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_over_the_limit_is_a_429_in_the_dialects_envelope(limited, dialect):
    runtime, client = limited
    account, key = runtime.store.accounts.create("rl", credits=1000)
    headers, read, submit, body, status, check = DIALECTS[dialect]
    for _ in range(LIMIT):
        assert client.get(read, headers=headers(key)).status_code == 200
    refused = client.post(submit, json=body, headers=headers(key))
    assert refused.status_code == status, refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["content-type"] == "application/json"
    check(refused.json())
    assert runtime.store.accounts.get(account.id).credits == 1000
    assert runtime.store.jobs.page(account.id, limit=10).jobs == []
    # Another key has its own count.
    _, other = runtime.store.accounts.create("other", credits=0)
    assert client.get(read, headers=headers(other)).status_code == 200


def test_openai_sdk_is_told_to_retry_after_the_wait(limited):
    runtime, client = limited
    _, key = runtime.store.accounts.create("rl", credits=1000)
    auth = {"Authorization": f"Bearer {key}"}
    for _ in range(LIMIT + 1):
        response = client.get("/v1/models", headers=auth)
    assert response.status_code == 429
    assert response.headers["x-should-retry"] == "true"


def test_refused_keys_and_refusals_are_not_counted(limited):
    runtime, client = limited
    _, key = runtime.store.accounts.create("rl", credits=1000)
    for _ in range(5):
        assert client.get("/v2/me", headers={"X-API-Key": "afk_unknown"}).status_code == 401
    assert client.get("/v2/me", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/v2/me", headers={"X-API-Key": key}).status_code == 200
    for _ in range(3):
        assert client.get("/v2/me", headers={"X-API-Key": key}).status_code == 429


def test_no_limit_by_default(client, headers):
    for _ in range(20):
        assert client.get("/v2/me", headers=headers).status_code == 200


def test_in_memory_each_process_counts_alone(tmp_path: Path, database_url: str):
    """Without Redis the limit holds per process: two processes allow twice the limit."""
    with ExitStack() as stack:
        clients = _clients(stack, tmp_path, database_url=database_url)
        key = _key(clients[0][0])
        for _, client in clients:
            for _ in range(LIMIT):
                assert client.get("/v2/me", headers={"X-API-Key": key}).status_code == 200
        assert clients[0][1].get("/v2/me", headers={"X-API-Key": key}).status_code == 429


def test_processes_sharing_redis_share_the_count(tmp_path: Path, postgres_url: str):
    """Two API processes (apps) over one PostgreSQL database and one Redis: the key's
    requests count once, whichever process answers them."""
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    with ExitStack() as stack:
        (first, a), (_, b) = _clients(
            stack, tmp_path, database_url=postgres_url, redis_url=REDIS_URL
        )
        key = _key(first)
        auth = {"X-API-Key": key}
        assert a.get("/v2/me", headers=auth).status_code == 200
        assert b.get("/v2/me", headers=auth).status_code == 200
        refused = a.post(
            "/v2/images/generate", json={"model": "midjourney", "prompt": "x"}, headers=auth
        )
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
        assert b.get("/v2/me", headers=auth).status_code == 429
        assert b.get("/v2/me", headers={"X-API-Key": _key(first)}).status_code == 200


def test_a_redis_broker_is_the_shared_redis(tmp_path: Path):
    def shared(**values: Any) -> str | None:
        return make_settings(tmp_path, **values).shared_redis_url

    assert shared(broker_url="redis://broker:6379/0") == "redis://broker:6379/0"
    assert shared(broker_url="amqp://guest@rabbit//") is None
    assert shared(broker_url="redis://broker/0", redis_url="redis://state/1") == "redis://state/1"
    assert shared() is None


def test_an_unreachable_redis_lets_requests_pass():
    limit = RateLimit(1, redis_url="redis://127.0.0.1:1/0")
    for _ in range(3):
        limit.hit("account")


def _clients(
    stack: ExitStack, tmp_path: Path, **overrides: Any
) -> list[tuple[Embedded, TestClient]]:
    built = []
    for name in ("a", "b"):
        runtime = _build(tmp_path / name, **overrides)
        built.append((runtime, stack.enter_context(TestClient(runtime.app()))))
    return built


def _key(runtime: Embedded) -> str:
    return runtime.store.accounts.create("fleet", credits=100)[1]
