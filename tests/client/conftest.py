"""One real ``selfjourney serve`` for all of the client's end-to-end tests.

The server (and its start-up time) is shared; a test that counts its jobs or credits makes a
key of its own (``site.new_key``). Upscales use Lanczos, to keep them quick on a CPU.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.client.site import Site
from tests.live import LiveServer, create_key


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    key = create_key(root / "data", 100_000)
    with LiveServer(root / "data", workers=1, args=["--upscaler", "lanczos"]) as server:
        yield Site(server, root, key)
