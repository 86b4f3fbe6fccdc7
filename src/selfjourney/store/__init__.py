"""Persistence: SQLAlchemy rows and the transactions the core needs."""

from __future__ import annotations

from datetime import datetime

from selfjourney.store.accounts import Accounts
from selfjourney.store.database import Clock, Database, utcnow
from selfjourney.store.deliveries import Deliveries
from selfjourney.store.held import Holds
from selfjourney.store.jobs import Jobs
from selfjourney.store.rounds import Rounds


class Store:
    """Every table's operations over one database.

    Usage::

        store = Store(Database.connect(url))
        account, key = store.accounts.create("dev", credits=100)
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.accounts = Accounts(db)
        self.jobs = Jobs(db)
        self.rounds = Rounds(db)
        self.deliveries = Deliveries(db)
        self.holds = Holds(db)

    @classmethod
    def connect(cls, url: str, clock: Clock = utcnow, *, upgrade: bool = True) -> Store:
        """The store at ``url``; see ``Database.connect`` for ``upgrade``."""
        return cls(Database.connect(url, clock, upgrade=upgrade))

    def now(self) -> datetime:
        """The store's clock (a test passes a fake one to ``connect``)."""
        return self.db.now()

    def close(self) -> None:
        self.db.close()


__all__ = ["Store", "Database"]
