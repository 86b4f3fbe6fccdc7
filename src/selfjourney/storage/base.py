"""The storage seam: bytes under keys like ``images/{job_id}-1.png``, each with a public URL."""

from __future__ import annotations

from typing import Protocol


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Write ``data`` under ``key`` atomically: readers see all of it or none."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; FileNotFoundError when there are none."""
        ...

    def exists(self, key: str) -> bool: ...

    def copy(self, source: str, target: str) -> None:
        """Duplicate a stored object (an upsample is a copy of one grid image)."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; no error when it is already gone."""
        ...

    def delete_folder(self, prefix: str) -> None:
        """Remove every key under ``prefix`` (which ends in ``/``); no error when none is."""
        ...

    def url(self, key: str) -> str:
        """Where a client downloads ``key``."""
        ...

    def check(self) -> None:
        """Raise when the storage cannot be used (readiness probes call it)."""
        ...
