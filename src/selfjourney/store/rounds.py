"""Rounds of periodic chores shared by several processes: one process wins each round.

Any process may run the watchdog or the retention purge; before a round, a process moves the
chore's ``until`` forward in one conditional write, and only the process whose write lands
runs that round. Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.exc import IntegrityError

from selfjourney.store.database import Database
from selfjourney.store.models import RoundRow

_rounds = cast(Table, RoundRow.__table__)
_TAKE = (
    update(_rounds)
    .where(_rounds.c.name == bindparam("chore"), _rounds.c.until <= bindparam("now"))
    .values(owner=bindparam("who"), until=bindparam("next_until"))
)
_FIRST = insert(_rounds)


class Rounds:
    def __init__(self, db: Database) -> None:
        self.db = db

    def take(self, name: str, owner: str, seconds: float) -> bool:
        """Whether ``owner`` runs this round of ``name``: True for one caller per ``seconds``."""
        now = self.db.now()
        params: dict[str, Any] = {
            "chore": name,
            "now": now,
            "who": owner,
            "next_until": now + timedelta(seconds=seconds),
        }
        with self.db.transaction() as connection:
            taken = connection.execute(_TAKE, params).rowcount
            if taken:
                return True
            try:
                with connection.begin_nested():
                    connection.execute(
                        _FIRST, {"name": name, "owner": owner, "until": params["next_until"]}
                    )
            except IntegrityError:  # the chore has a row: another process has this round
                return False
            return True
