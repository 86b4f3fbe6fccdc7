"""Migration 0006: jobs from before it read back with no model (the default's), a claim can be
limited to some models, and a downgrade drops the column (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, inspect

from selfjourney.store import Store
from selfjourney.store.database import make_engine
from selfjourney.store.migrate import _MIGRATIONS, migrate
from selfjourney.store.models import AccountRow, JobRow
from tests.records import queued_job


def _old_queued_job(url: str) -> str:
    """A database at revision 0005 holding one queued job; its id."""
    engine = make_engine(url)
    migrate(engine, "0005")
    job_id, now = str(uuid.uuid4()), datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(AccountRow),
            [dict(id="a", name="a", key_hash="h", key_prefix="p", credits=0, active=True,
                  created_at=now)],
        )  # fmt: skip
        connection.execute(
            insert(JobRow),
            [dict(id=job_id, account_id="a", kind="imagine", status="QUEUED", model="midjourney",
                  dialect="apiframe_v2", prompt="p", params={"flags": {}}, input={}, seed=1,
                  cost=0, refunded=False, progress=0, attempt=0, priority=0, created_at=now,
                  expired=False)],
        )  # fmt: skip
    engine.dispose()
    return job_id


def test_old_jobs_have_no_model_and_only_default_workers_claim_them(database_url: str):
    job_id = _old_queued_job(database_url)
    store = Store.connect(database_url)  # upgrades to the newest revision
    try:
        old = store.jobs.get(job_id)
        assert old is not None and old.render_model is None
        niji, _ = store.jobs.create(replace(queued_job("a", cost=0), render_model="niji6"))
        assert [(w.id, w.model) for w in store.jobs.waiting()] == [
            (job_id, None),
            (niji.id, "niji6"),
        ]
        assert store.jobs.claim(job_id, 30, models=("niji6",)) is None
        assert store.jobs.claim(niji.id, 30, models=("v7", None)) is None
        claimed = store.jobs.claim(job_id, 30, models=("v7", None))
        assert claimed is not None and claimed[0].render_model is None
        claimed = store.jobs.claim(niji.id, 30, models=("niji6",))
        assert claimed is not None and claimed[0].render_model == "niji6"
    finally:
        store.close()


def test_the_column_comes_with_0006_and_goes_on_a_downgrade(database_url: str):
    engine = make_engine(database_url)
    try:
        migrate(engine, "0005")
        assert "render_model" not in {c["name"] for c in inspect(engine).get_columns("jobs")}
        migrate(engine)
        assert "render_model" in {c["name"] for c in inspect(engine).get_columns("jobs")}
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
        assert "render_model" not in {c["name"] for c in inspect(engine).get_columns("jobs")}
    finally:
        engine.dispose()
