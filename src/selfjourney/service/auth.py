"""Keys to accounts, with a short memory so a busy client does not cost a look-up a request."""

from __future__ import annotations

import time

from selfjourney.domain.accounts import Account
from selfjourney.domain.errors import MissingKey
from selfjourney.store import Store

#: Forget everything past this many remembered keys (a flood of random keys stays bounded).
_MAX_REMEMBERED = 10_000


class Authenticator:
    """Finds the active account of a key; remembers it for ``cache_seconds``.

    So a key revoked from another process keeps working for at most that long; with 0 (the
    default on local SQLite, where a look-up is cheaper than a thread hop) revocation is instant.
    """

    def __init__(self, store: Store, *, cache_seconds: float) -> None:
        self._store = store
        self._cache_seconds = cache_seconds
        self._recent: dict[str, tuple[float, Account]] = {}

    def authenticate(self, raw_key: str | None) -> Account:
        if not raw_key:
            raise MissingKey()
        account = self._store.accounts.authenticate(raw_key)
        if self._cache_seconds > 0:
            if len(self._recent) > _MAX_REMEMBERED:
                self._recent.clear()
            self._recent[raw_key] = (time.monotonic() + self._cache_seconds, account)
        return account

    def recent(self, raw_key: str | None) -> Account | None:
        """An account authenticated less than ``cache_seconds`` ago, without the store."""
        if not raw_key:
            return None
        found = self._recent.get(raw_key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]
