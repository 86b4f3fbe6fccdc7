"""The handle every store module shares: one engine, a writer view of it, and a clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from selfjourney.store.db import make_engine, migrate, writer

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Database:
    """Sessions for reading and for writing (SQLite: BEGIN IMMEDIATE), plus ``now``.

    Usage::

        db = Database.connect("sqlite:///data/selfjourney.db")
        with db.write() as session:
            session.add(row)
    """

    def __init__(self, engine: Engine, clock: Clock = utcnow) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self.now = clock

    @classmethod
    def connect(cls, url: str, clock: Clock = utcnow) -> Database:
        """Open the database at ``url`` and bring its schema up to date."""
        engine = make_engine(url)
        migrate(engine)
        return cls(engine, clock)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A bare connection for hot read paths (no ORM session to set up)."""
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction on a bare connection: the hot paths' cheaper ``write``."""
        with self._writer.begin() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
