"""The fleet's services on loopback: a fresh PostgreSQL database per test, Redis and RabbitMQ
as brokers (each emptied of our queues first). Down services skip, except in CI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ADMIN_URL
from tests.s3 import s3_bucket, s3_endpoint  # noqa: F401

#: A Redis database per pytest-xdist worker (gw0: 13, gw1: 12, ...): two fleet tests running at
#: once must not empty or consume each other's queues.
REDIS_BROKER = (
    f"redis://127.0.0.1:6379/{13 - int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0')[2:] or 0) % 8}"
)
RABBITMQ_BROKER = "amqp://guest:guest@127.0.0.1:5672//"


def _down(what: str, exc: Exception) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} must be running in CI: {exc}")
    pytest.skip(f"{what} is not running: {exc}")


@pytest.fixture
def fleet_database(postgres_up: bool) -> Iterator[str]:
    """A database of its own (fleet processes share it; each connects afresh)."""
    if not postgres_up:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"sjfleet_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty(broker_url: str) -> None:
    """Drop our queues' leftover messages from an earlier run."""
    from kombu import Connection, Queue

    with Connection(broker_url, connect_timeout=3) as connection:
        connection.ensure_connection(max_retries=1)
        channel = connection.channel()
        for name in ("selfjourney.default",):
            try:
                Queue(name, channel=channel).purge()
            except Exception:  # not declared yet: nothing to drop
                channel = connection.channel()


@pytest.fixture
def redis_broker() -> str:
    try:
        import redis

        redis.Redis.from_url(REDIS_BROKER, socket_timeout=3).flushdb()
    except Exception as exc:
        _down("Redis (127.0.0.1:6379)", exc)
    return REDIS_BROKER


@pytest.fixture
def rabbitmq_broker() -> str:
    try:
        _empty(RABBITMQ_BROKER)
    except Exception as exc:
        _down("RabbitMQ (127.0.0.1:5672)", exc)
    return RABBITMQ_BROKER


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> str:
    """Each broker in turn."""
    return str(request.getfixturevalue(f"{request.param}_broker"))
