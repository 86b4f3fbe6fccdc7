"""The OpenAI dialect served for real: uvicorn on loopback, one worker thread, small grids
(``SmallEngine``: 256x256 pictures for 1:1), so the ``openai`` SDK talks HTTP to a server that
renders. One server per test module; each test makes its own key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.midapi.fakes import SmallEngine
from tests.openai_images.serving import Served, serving


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("openai"), engine=SmallEngine()) as server:
        yield server


@pytest.fixture
def key(served: Served) -> Iterator[str]:
    """A fresh key with 1000 credits; the SDK clients a test made are closed after it."""
    yield served.key()
    served.close_clients()
