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
        self._single_reader = engine.execution_options(sqlite_begin=None)
        self.now = clock
        #: SQLite in WAL mode: a read never waits for a writer and takes a fraction of a
        #: millisecond, less than handing it to a thread. Over a network it is not so.
        self.reads_are_local = engine.dialect.name == "sqlite"

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
        """A bare connection for one-statement reads on hot paths.

        On SQLite no BEGIN is sent: a lone SELECT in autocommit mode is already atomic.
        """
        with self._single_reader.connect() as connection:
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
