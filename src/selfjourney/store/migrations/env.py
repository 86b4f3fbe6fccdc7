"""Alembic environment: runs on the connection handed in by ``store.migrate.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from selfjourney.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # the alembic CLI (e.g. autogenerate) with -x url=...
        url = context.get_x_argument(as_dictionary=True)["url"]
        with create_engine(url).connect() as conn:
            context.configure(
                connection=conn, target_metadata=target_metadata, render_as_batch=True
            )
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


_run()
