"""The handle every store module shares: one SQLAlchemy engine, a writer view of it, a clock.

SQLite (the embedded default) runs in WAL mode with explicit ``BEGIN IMMEDIATE`` writers;
PostgreSQL gets a connection pool. Both are reached through the same three context managers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session

from selfjourney.store.migrate import SchemaNotCurrent, migrate, pending

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
        self._writer = _writer(engine)
        self._single_reader = engine.execution_options(sqlite_begin=None)
        self.now = clock
        #: SQLite in WAL mode: a read never waits for a writer and takes a fraction of a
        #: millisecond, less than handing it to a thread. Over a network it is not so.
        self.reads_are_local = engine.dialect.name == "sqlite"

    @classmethod
    def connect(cls, url: str, clock: Clock = utcnow, *, upgrade: bool = True) -> Database:
        """Open the database at ``url`` and bring its schema up to date; with ``upgrade`` off
        (fleet processes) refuse a schema that is not current instead."""
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        elif (missing := pending(engine)) is not None:
            engine.dispose()
            raise SchemaNotCurrent(f"{missing}: run `selfjourney db upgrade` first")
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


def make_engine(url: str) -> Engine:
    """An engine tuned for the dialect: SQLite gets WAL and explicit BEGIN IMMEDIATE writes."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _writer(engine: Engine) -> Engine:
    """The same pool, but SQLite transactions take the write lock up front.

    A deferred SQLite transaction that reads and then writes fails at once with
    SQLITE_BUSY when another writer got there first; BEGIN IMMEDIATE waits its turn.
    """
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode is not None:  # None: a single autocommit statement (see Database.connection)
            conn.exec_driver_sql(f"BEGIN {mode}")
