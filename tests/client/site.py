"""The real server the client's end-to-end tests talk to (see ``conftest.site``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from tests.live import LiveServer, create_key


@dataclass(frozen=True)
class Site:
    """A running server, the directory it runs in (``data/`` below it), and its data dir."""

    server: LiveServer
    root: Path
    #: A key with plenty of credits, for tests that need no jobs or balance of their own.
    key: str

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def new_key(self, credits: int = 1000) -> str:
        """A key of the test's own: its jobs and its balance are the test's alone."""
        return create_key(self.data_dir, credits)


def image_size(path: Path) -> tuple[int, int]:
    """Decode the whole file (a truncated PNG fails here) and return its size."""
    with Image.open(path) as image:
        image.load()
        return image.size
