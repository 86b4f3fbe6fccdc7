"""Reference images: downloaded through the outbound guard, within size, type and time limits."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from selfjourney.outbound.fetch import FetchError, fetch_image
from selfjourney.outbound.guard import guarded_client
from tests.receiver import Reply, WebhookReceiver


def _encoded(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 10)).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def server():
    with WebhookReceiver(path="/image") as receiver:
        yield receiver


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_are_decoded(server, fmt):
    server.reply_with([Reply(200, body=_encoded(fmt), headers=(("content-type", "text/plain"),))])
    with guarded_client(allow_private=True, timeout=5) as client:
        image = fetch_image(client, server.url)
    assert image.size == (64, 48) and image.mode == "RGB"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, body=b"<html>not an image</html>"), "not a PNG, JPEG or WebP"),
        (Reply(200, body=_encoded("GIF")), "not a PNG, JPEG or WebP"),
        (Reply(200, body=_encoded("PNG")[:40]), "could not be decoded"),
        (Reply(404), "answered HTTP 404"),
        (Reply(302, headers=(("location", "/elsewhere"),)), "answered HTTP 302"),
        (Reply(200, body=_encoded("PNG", (5000, 8))), "the limit is 4096"),
    ],
    ids=["html", "gif", "truncated", "404", "redirect", "too-wide"],
)
def test_unusable_images_are_refused_with_a_reason(server, reply, reason):
    server.reply_with([reply])
    with (
        guarded_client(allow_private=True, timeout=5) as client,
        pytest.raises(FetchError) as caught,
    ):
        fetch_image(client, server.url)
    assert reason in str(caught.value)


def test_size_limit(server):
    server.reply_with([Reply(200, body=_encoded("PNG", (600, 600)))])
    with (
        guarded_client(allow_private=True, timeout=5) as client,
        pytest.raises(FetchError) as caught,
    ):
        fetch_image(client, server.url, max_bytes=1000)
    assert "larger than 1000 bytes" in str(caught.value)


def test_time_limit(server):
    server.reply_with([Reply(200, delay=2.0, body=_encoded("PNG"))])
    with (
        guarded_client(allow_private=True, timeout=5) as client,
        pytest.raises(FetchError) as caught,
    ):
        fetch_image(client, server.url, max_seconds=0.3)
    assert "0.3 s" in str(caught.value)


def test_private_addresses_are_refused_unless_allowed(server):
    server.reply_with([Reply(200, body=_encoded("PNG"))])
    with (
        guarded_client(allow_private=False, timeout=5) as client,
        pytest.raises(FetchError) as caught,
    ):
        fetch_image(client, server.url)
    assert "not allowed" in str(caught.value)
    assert server.requests == []
