"""Held action rows: a button waiting for its confirmation (``domain.held``).

A hold is deleted in the very transaction that creates its job under the same id
(``Jobs.create(..., consumes=...)``), so a confirmation runs at most once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, insert, select

from selfjourney.domain.commands import Act
from selfjourney.domain.errors import NotFound
from selfjourney.domain.held import HeldAction
from selfjourney.domain.jobs import Webhook
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs
from selfjourney.store.database import Database
from selfjourney.store.models import HeldRow

held_table = cast(Table, HeldRow.__table__)
_INSERT = insert(held_table)
_BY_ID = select(held_table).where(held_table.c.id == bindparam("held_id"))


def to_held(row: Row[Any]) -> HeldAction:
    webhook = None
    if row.webhook_url:
        webhook = Webhook(
            url=row.webhook_url,
            events=frozenset(row.webhook_events or ()),
            secret=row.webhook_secret,
        )
    command = Act(
        parent_id=row.parent_id,
        action=JobKind(row.kind),
        args=ActionArgs.from_json(row.args or {}),
        prompt=row.prompt,
        webhook=webhook,
        input=dict(row.input),
        dialect=row.dialect,
        watermark=row.watermark,
        priority=row.priority,
    )
    return HeldAction(row.id, row.account_id, command, row.created_at)


def _values(held: HeldAction) -> dict[str, Any]:
    command = held.command
    webhook = command.webhook
    return {
        "id": held.id,
        "account_id": held.account_id,
        "parent_id": command.parent_id,
        "kind": command.action.value,
        "args": command.args.to_json(),
        "prompt": command.prompt or "",
        "input": command.input,
        "dialect": command.dialect,
        "priority": command.priority,
        "watermark": command.watermark,
        "webhook_url": webhook.url if webhook else None,
        "webhook_events": sorted(webhook.events) if webhook else None,
        "webhook_secret": webhook.secret if webhook else None,
        "created_at": held.created_at,
    }


class Holds:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, held: HeldAction) -> None:
        with self.db.transaction() as connection:
            connection.execute(_INSERT, _values(held))

    def get_owned(self, account_id: str, held_id: str) -> HeldAction:
        """The hold if this account made it; otherwise NotFound, whoever owns it."""
        with self.db.connection() as connection:
            row = connection.execute(_BY_ID, {"held_id": held_id}).one_or_none()
        if row is None or row.account_id != account_id:
            raise NotFound(held_id)
        return to_held(row)

    def get_many(self, held_ids: list[str]) -> list[HeldAction]:
        """The holds among ``held_ids`` that exist, in one query (any order)."""
        if not held_ids:
            return []
        query = select(held_table).where(held_table.c.id.in_(set(held_ids)))
        with self.db.connection() as connection:
            return [to_held(row) for row in connection.execute(query).all()]

    def purge(self, created_before: datetime) -> int:
        """Forget holds never confirmed, older than the cutoff (their task then reads unknown)."""
        with self.db.transaction() as connection:
            result = connection.execute(
                delete(held_table).where(held_table.c.created_at < created_before)
            )
            return int(getattr(result, "rowcount", 0) or 0)
