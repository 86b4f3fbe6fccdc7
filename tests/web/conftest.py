"""A real browser for the pages: Debian's chromium, driven by Playwright.

Playwright's own browser builds are never downloaded: the tests launch the system chromium
(``apt-get install chromium``; ``.ci/run`` installs it). Without it the browser tests skip on
a developer's machine and fail in CI (``CI`` set), so CI cannot pass without running them.

The app runs in a thread on a loopback port; the browser may reach that server only: every
other request is refused and recorded, so a test proves the pages work offline.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from selfjourney.embedded import Embedded, build_embedded
from tests.conftest import make_settings
from tests.live import free_port
from tests.server import ThreadedServer

CHROMIUM = Path(os.environ.get("SELFJOURNEY_TEST_CHROMIUM", "/usr/bin/chromium"))
#: Root needs --no-sandbox; the rest keep chromium from reaching for a network it cannot have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
#: Seconds of pretend-GPU time per rendered job: progress moves in four visible steps.
RENDER_DELAY = 1.6
STARTER_CREDITS = 1000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser tests (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Site:
    """The app on a loopback port, a funded key, and what the browser tried to reach elsewhere."""

    runtime: Embedded
    url: str
    key: str
    outside: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def page(self, browser: Any) -> Any:
        """A fresh browser context and page that may reach this server only."""
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        here = re.escape(self.url)

        def refuse(route: Any) -> None:
            self.outside.append(route.request.url)
            route.abort()

        context.route(re.compile(rf"^(?!{here}/)(https?|wss?)://"), refuse)
        page = context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return page


def _site(data_dir: Path, workers: int) -> Iterator[Site]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(data_dir, workers=workers, render_delay=RENDER_DELAY, public_url=url)
    runtime = build_embedded(settings)
    _, key = runtime.store.accounts.create("playground", credits=STARTER_CREDITS)
    # A page's open event stream ends when the browser closes; the grace period only bounds
    # a stream a failing test left open.
    with ThreadedServer(runtime.app(), port=port, timeout_graceful_shutdown=2):
        yield Site(runtime, url, key)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """One worker thread, rendering with the pretend-GPU delay."""
    yield from _site(tmp_path / "data", workers=1)


@pytest.fixture
def paused_site(tmp_path: Path) -> Iterator[Site]:
    """No worker thread: jobs stay queued."""
    yield from _site(tmp_path / "data", workers=0)


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a test saves what the browser showed (kept with pytest's temporary dirs)."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder
