"""Schema migrations (Alembic): bring a database to the newest revision, or check it is there."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

_MIGRATIONS = Path(__file__).parent / "migrations"
#: Any number, the same in every process: PostgreSQL's lock that serialises two upgrades.
_UPGRADE_LOCK = 0x53656C66


class SchemaNotCurrent(Exception):
    """A fleet process found a database whose schema another version of the code expects."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``, the newest by default (a no-op when it is there).

    On PostgreSQL two upgrades at once wait for each other instead of racing."""
    config = _config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def pending(engine: Engine) -> str | None:
    """What is missing for the schema to be current, or None when it is at the newest revision.

    Fleet processes call this instead of migrating: ``selfjourney db upgrade`` migrates."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return None
    return f"the database schema is at revision {current or 'none'}, this code needs {head}"
