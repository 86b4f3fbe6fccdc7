"""The feed seam: the worker side publishes, the API side watches."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol


class Watch(Protocol):
    """Interest in one job, taken before reading its row, so no signal falls in between."""

    async def wait(self, timeout: float) -> bool:
        """True as soon as the job is published (since the watch began or the last wait), or
        False after ``timeout`` seconds."""
        ...

    def __enter__(self) -> Watch: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Feed(Protocol):
    def publish(self, job_id: str) -> None:
        """Say that a job's row changed (status, progress, result). Never blocks, never raises."""
        ...

    def watch(self, job_id: str) -> Watch:
        """Start watching a job from a running event loop; use it as a context manager."""
        ...
