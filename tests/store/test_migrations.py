"""Migration 0003: jobs stored with the old flat params read back as typed params (SQLite and
PostgreSQL), and a downgrade gives the flat shape back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select

from selfjourney.domain.flags import Flags
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex, References, Source
from selfjourney.domain.sizes import Direction
from selfjourney.store import Store
from selfjourney.store.database import Database, make_engine
from selfjourney.store.migrate import _MIGRATIONS, migrate
from selfjourney.store.models import AccountRow, JobRow

SOURCE = {"key": "images/p-2.png", "width": 1024, "height": 1024, "recipe": {"seed": 3}}
#: Params as versions before 0003 wrote them, by job kind.
OLD: dict[str, tuple[str, dict[str, Any]]] = {
    "imagine": (
        "imagine",
        {
            "aspect_ratio": "16:9",
            "seed": 7,
            "chaos": 20,
            "negative": ["red"],
            "watermark": "wm",
            "priority": 2,
            "references": {"urls": ["https://a.example/x.png"], "mode": "style", "weight": 0.5},
        },
    ),
    "variation": (
        "variation",
        {"chaos": 20, "index": 2, "strength": "subtle", "source": SOURCE, "prompt": "p"},
    ),
    "zoom": ("outpaint", {"zoom_ratio": 1.5, "aspect_ratio": "2:3", "source": SOURCE}),
    "pan": ("pan", {"direction": "left", "source": SOURCE, "tile": True}),
    "reroll_zoom": (
        "reroll",
        {"zoom_ratio": 1.5, "aspect_ratio": "2:3", "source": SOURCE, "of": "outpaint"},
    ),
    "reroll_grid": ("reroll", {"aspect_ratio": "1:1", "of": "imagine"}),
    "upscale_url": ("upscale", {"factor": 4, "mode": "subtle", "image_url": "https://u.example/a"}),
}


def _insert_old_jobs(url: str) -> dict[str, str]:
    """A database at revision 0002 holding one job of each shape; their ids by name."""
    engine = make_engine(url)
    migrate(engine, "0002")
    now = datetime.now(UTC)
    ids = {name: str(uuid.uuid4()) for name in OLD}
    with engine.begin() as connection:
        connection.execute(
            insert(AccountRow),
            [dict(id="a", name="a", key_hash="h", key_prefix="p", credits=0, active=True,
                  created_at=now)],
        )  # fmt: skip
        for name, (kind, params) in OLD.items():
            connection.execute(insert(JobRow), [_row(ids[name], kind, params, now)])
    engine.dispose()
    return ids


def _row(job_id: str, kind: str, params: dict[str, Any], now: datetime) -> dict[str, Any]:
    return dict(
        id=job_id, account_id="a", kind=kind, status="QUEUED", model="midjourney",
        dialect="apiframe_v2", parent_id=None, prompt="p", params=params, input={}, seed=1,
        cost=0, refunded=False, progress=0, result=None, error=None, webhook_url=None,
        webhook_events=None, webhook_status=None, webhook_secret=None, attempt=0,
        priority=int(params.get("priority", 0)), created_at=now, started_at=None,
        completed_at=None, expired=False, mask=None,
    )  # fmt: skip


def test_old_params_read_back_typed(database_url: str):
    ids = _insert_old_jobs(database_url)
    store = Store.connect(database_url)  # upgrades to the newest revision
    try:
        jobs = {name: store.jobs.get(job_id) for name, job_id in ids.items()}
    finally:
        store.close()
    imagine = jobs["imagine"]
    assert imagine is not None
    assert imagine.params.flags == Flags(aspect_ratio="16:9", seed=7, chaos=20, negative=("red",))
    assert imagine.params.references == References(("https://a.example/x.png",), "style", 0.5)
    assert (imagine.params.watermark, imagine.params.priority) == ("wm", 2)
    source = Source("images/p-2.png", 1024, 1024, {"seed": 3})
    variation = jobs["variation"]
    assert variation is not None and variation.params.source == source
    assert variation.params.action == ActionArgs(index=GridIndex(2), strength="subtle")
    assert variation.params.flags == Flags(chaos=20)
    zoom = jobs["zoom"]
    assert zoom is not None and zoom.params.flags == Flags()
    assert zoom.params.action == ActionArgs(zoom_ratio=1.5, shape="2:3")
    pan = jobs["pan"]
    assert pan is not None and pan.params.action.direction is Direction.LEFT
    assert pan.params.flags.tile is True
    reroll = jobs["reroll_zoom"]
    assert reroll is not None and reroll.params.repeats is JobKind.OUTPAINT
    assert reroll.renders_as is JobKind.OUTPAINT and reroll.params.action.shape == "2:3"
    grid = jobs["reroll_grid"]
    assert grid is not None and grid.renders_as is JobKind.IMAGINE
    assert grid.params.flags.aspect_ratio == "1:1"
    upscale = jobs["upscale_url"]
    assert upscale is not None and upscale.params.image_url == "https://u.example/a"
    assert upscale.params.action == ActionArgs(factor=4, mode="subtle")


def test_a_downgrade_gives_the_flat_params_back(database_url: str):
    ids = _insert_old_jobs(database_url)
    Store.connect(database_url).close()
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    db = Database(engine)
    with db.connection() as connection:
        rows = {row.id: row.params for row in connection.execute(select(JobRow.id, JobRow.params))}
    engine.dispose()
    expected = {
        "zoom": {"zoom_ratio": 1.5, "aspect_ratio": "2:3", "source": SOURCE},
        "reroll_grid": {"aspect_ratio": "1:1", "of": "imagine"},
        "pan": {"direction": "left", "source": SOURCE, "tile": True},
    }
    for name, flat in expected.items():
        assert rows[ids[name]] == flat
