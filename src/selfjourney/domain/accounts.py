"""API keys and what they own: an account is one key with its own credit balance."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

KEY_PREFIX = "afk_"


def new_api_key() -> str:
    """A fresh key: ``afk_`` and 43 random URL-safe characters (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(api_key: str) -> str:
    """Hex SHA-256 of the key: all the server keeps, and (raw) the webhook signing key."""
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    key_prefix: str
    key_hash: str
    credits: int
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    account_id: str
    job_id: str | None
    delta: int
    reason: str
    balance_after: int
    created_at: datetime
