"""midapi fixtures: a Bearer key, a reference-image server, a callback receiver."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image, ImageDraw

from selfjourney.config import Settings
from selfjourney.embedded import Embedded, build_embedded
from tests.midapi.fakes import SmallEngine
from tests.midapi.files import FileServer
from tests.midapi.steps import bearer, png
from tests.receiver import WebhookReceiver


def _reference() -> bytes:
    """A loud checkerboard, unlike anything the engine draws from a prompt."""
    image = Image.new("RGB", (256, 256), (255, 0, 255))
    draw = ImageDraw.Draw(image)
    for y in range(0, 256, 32):
        for x in range(0, 256, 32):
            if (x + y) // 32 % 2:
                draw.rectangle((x, y, x + 31, y + 31), fill=(0, 255, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def runtime(settings: Settings) -> Embedded:
    """The app's runtime with grids drawn small (see ``SmallEngine``): the API is under test."""
    return build_embedded(settings, engine=SmallEngine())


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return bearer(api_key)


@pytest.fixture(scope="session")
def files() -> Iterator[FileServer]:
    served = {
        "/checker.png": _reference(),
        "/blue.png": png((0, 0, 255), (128, 96)),
        "/not-an-image.txt": b"hello, I am text",
    }
    with FileServer(served) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r
