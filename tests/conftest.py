"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL where it answers),
the app driven over HTTP in-process, and keys with credits."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from selfjourney.config import Settings
from selfjourney.embedded import Embedded, build_embedded
from selfjourney.storage.local import LocalStorage
from selfjourney.store import Store

POSTGRES_ADMIN_URL = os.environ.get(
    "SELFJOURNEY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_up() -> bool:
    up = _postgres_available()
    if not up and os.environ.get("CI"):
        pytest.fail("PostgreSQL must be running in CI (127.0.0.1:5432)")
    return up


@pytest.fixture
def postgres_url(postgres_up: bool) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema made for this test alone."""
    if not postgres_up:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    schema = f"sj_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'selfjourney.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Test settings: no worker threads (tests drain), fast webhook retries, loopback allowed."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "workers": 0,
        "public_url": "http://testserver",
        "allow_private_urls": True,
        "webhook_backoff": (0.05, 0.1),
        "webhook_max_attempts": 3,
        "webhook_timeout": 2.0,
        "webhook_progress_interval": 0.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def runtime(settings: Settings) -> Embedded:
    return build_embedded(settings)


@pytest.fixture
def client(runtime: Embedded) -> Iterator[TestClient]:
    with TestClient(runtime.app()) as test_client:
        yield test_client


@pytest.fixture
def api_key(runtime: Embedded) -> str:
    _, raw = runtime.store.accounts.create("test", credits=1000)
    return raw


@pytest.fixture
def headers(api_key: str) -> dict[str, str]:
    return {"X-API-Key": api_key}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite store, for tests that drive the parts below the API directly."""
    s = Store.connect(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    s.close()


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files", "http://files.test")
