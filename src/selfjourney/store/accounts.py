"""Keys, balances and the credit ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from selfjourney.domain.accounts import Account, LedgerEntry, key_hash, new_api_key
from selfjourney.domain.errors import InactiveKey, InvalidInput, InvalidKey, NotFound
from selfjourney.store.database import Database
from selfjourney.store.models import AccountRow, LedgerRow


def to_account(row: AccountRow | Row[Any]) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        key_prefix=row.key_prefix,
        key_hash=row.key_hash,
        credits=row.credits,
        active=row.active,
        created_at=row.created_at,
    )


_accounts = cast(Table, AccountRow.__table__)
_MOVE = (
    update(_accounts)
    .where(
        _accounts.c.id == bindparam("account_id"),
        _accounts.c.credits + bindparam("delta") >= 0,
    )
    .values(credits=_accounts.c.credits + bindparam("delta"))
    .returning(_accounts.c.credits)
)
_LEDGER = insert(cast(Table, LedgerRow.__table__))
_BY_HASH = select(_accounts).where(_accounts.c.key_hash == bindparam("key_hash"))


def record_movement(
    session: Session | Connection,
    account_id: str,
    delta: int,
    reason: str,
    job_id: str | None,
    now: datetime,
) -> int | None:
    """Move credits and write the ledger entry in the caller's transaction.

    Returns the new balance, or None when the move would make it negative (nothing moved).
    Prebuilt statements: this runs on every submission and refund.
    """
    balance = session.execute(
        _MOVE, {"account_id": account_id, "delta": delta}
    ).scalar_one_or_none()
    if balance is None:
        return None
    session.execute(
        _LEDGER,
        {
            "account_id": account_id,
            "job_id": job_id,
            "delta": delta,
            "reason": reason,
            "balance_after": balance,
            "created_at": now,
        },
    )
    return int(balance)


class Accounts:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, credits: int = 0) -> tuple[Account, str]:
        """Create a key; the raw key is returned once and never stored."""
        raw = new_api_key()
        row = AccountRow(
            id=str(uuid.uuid4()),
            name=name,
            key_hash=key_hash(raw),
            key_prefix=raw[:12],
            credits=0,
            active=True,
            created_at=self.db.now(),
        )
        with self.db.write() as session:
            session.add(row)
            session.flush()
            if credits:
                record_movement(session, row.id, credits, "grant", None, self.db.now())
            session.refresh(row)
            return to_account(row), raw

    def authenticate(self, raw_key: str) -> Account:
        with self.db.connection() as connection:
            row = connection.execute(_BY_HASH, {"key_hash": key_hash(raw_key)}).one_or_none()
        if row is None:
            raise InvalidKey()
        if not row.active:
            raise InactiveKey()
        return to_account(row)

    def find(self, key_or_id: str) -> Account:
        """Look a key up by its id, its raw value or its printed prefix."""
        with self.db.read() as session:
            rows = session.scalars(
                select(AccountRow).where(
                    or_(
                        AccountRow.id == key_or_id,
                        AccountRow.key_hash == key_hash(key_or_id),
                        AccountRow.key_prefix == key_or_id,
                    )
                )
            ).all()
        if len(rows) != 1:
            shown = key_or_id if len(key_or_id) <= 12 else key_or_id[:12] + "…"
            raise NotFound(key_or_id, f"API key {shown!r}")
        return to_account(rows[0])

    def get(self, account_id: str) -> Account:
        with self.db.read() as session:
            row = session.get(AccountRow, account_id)
        if row is None:
            raise NotFound(account_id, "API key")
        return to_account(row)

    def all(self) -> list[Account]:
        with self.db.read() as session:
            rows = session.scalars(select(AccountRow).order_by(AccountRow.created_at)).all()
        return [to_account(row) for row in rows]

    def set_active(self, account_id: str, active: bool) -> Account:
        with self.db.write() as session:
            session.execute(
                update(AccountRow).where(AccountRow.id == account_id).values(active=active)
            )
        return self.get(account_id)

    def add_credits(self, account_id: str, amount: int, reason: str = "grant") -> int:
        """Grant (or, negative, withdraw) credits; the balance never goes below zero."""
        with self.db.write() as session:
            balance = record_movement(session, account_id, amount, reason, None, self.db.now())
        if balance is None:
            raise InvalidInput(f"cannot remove {-amount} credits: the balance is lower")
        return balance

    def ledger(self, account_id: str) -> list[LedgerEntry]:
        with self.db.read() as session:
            rows = session.scalars(
                select(LedgerRow).where(LedgerRow.account_id == account_id).order_by(LedgerRow.id)
            ).all()
        return [
            LedgerEntry(
                id=r.id,
                account_id=r.account_id,
                job_id=r.job_id,
                delta=r.delta,
                reason=r.reason,
                balance_after=r.balance_after,
                created_at=r.created_at,
            )
            for r in rows
        ]
