"""A dict-backed storage for tests and benchmarks that should not touch the disk."""

from __future__ import annotations

import threading


class MemoryStorage:
    def __init__(self, public_url: str = "http://test") -> None:
        self.public_url = public_url.rstrip("/")
        self.objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self.objects[key] = bytes(data)

    def get(self, key: str) -> bytes:
        with self._lock:
            if key not in self.objects:
                raise FileNotFoundError(key)
            return self.objects[key]

    def exists(self, key: str) -> bool:
        with self._lock:
            return key in self.objects

    def copy(self, source: str, target: str) -> None:
        self.put(target, self.get(source))

    def delete(self, key: str) -> None:
        with self._lock:
            self.objects.pop(key, None)

    def url(self, key: str) -> str:
        return f"{self.public_url}/cdn/{key}"
