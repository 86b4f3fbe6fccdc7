"""Migration 0004: the held_actions table comes and goes with the revision (SQLite and
PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import inspect

from selfjourney.store.database import make_engine
from selfjourney.store.migrate import migrate


def test_held_actions_come_with_0004_and_go_on_a_downgrade(database_url: str):
    engine = make_engine(database_url)
    try:
        migrate(engine, "0003")
        assert "held_actions" not in inspect(engine).get_table_names()
        migrate(engine)
        assert "held_actions" in inspect(engine).get_table_names()
        columns = {c["name"] for c in inspect(engine).get_columns("held_actions")}
        assert {"id", "account_id", "parent_id", "kind", "args", "created_at"} <= columns
    finally:
        engine.dispose()
