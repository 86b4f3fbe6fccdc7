"""Fixtures for the Apiframe v1 tests: the root ``client`` (no workers: tests drain) and a key
sent the way the v1 docs show it, ``Authorization: <key>``."""

from __future__ import annotations

import pytest

from tests.apiframe_v1.flows import submit_done


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": api_key}


@pytest.fixture
def grid(client, auth) -> str:
    """A completed imagine task (1:1, so 1024x1024 images)."""
    return submit_done(client, auth, "/imagine", prompt="a lighthouse")


@pytest.fixture
def upscale(client, auth, grid) -> str:
    """A completed upscale-1x of the grid's second image."""
    return submit_done(client, auth, "/upscale-1x", parent_task_id=grid, index="2")
