"""Downloading a caller's image (midapi ``fileUrls``) with the outbound-URL guard and limits.

Limits: 10 MB, 20 s in all, PNG / JPEG / WebP recognised by their first bytes (not by the
name or the Content-Type), at most 4096 x 4096 pixels.
"""

from __future__ import annotations

import io
import time

import httpx
from PIL import Image, UnidentifiedImageError

from selfjourney.core.errors import UnsafeUrl

MAX_BYTES = 10 * 1024 * 1024
MAX_SECONDS = 20.0
MAX_SIDE = 4096
_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


class FetchError(Exception):
    """A reference image that could not be used; the message says why, for the job's error."""


def fetch_image(
    client: httpx.Client,
    url: str,
    max_bytes: int = MAX_BYTES,
    max_seconds: float = MAX_SECONDS,
) -> Image.Image:
    """The decoded RGB image at ``url``, or FetchError with a reason a person understands."""
    try:
        data = _download(client, url, max_bytes, max_seconds)
    except UnsafeUrl as exc:
        raise FetchError(f"{url} is not allowed: {exc.message}") from None
    except httpx.TimeoutException:
        raise FetchError(f"{url} took longer than {max_seconds:g} s to answer") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"could not download {url}: {exc}") from None
    kind = _sniff(data)
    if kind is None:
        raise FetchError(f"{url} is not a PNG, JPEG or WebP image")
    return _decode(data, url)


def _download(client: httpx.Client, url: str, max_bytes: int, max_seconds: float) -> bytes:
    deadline = time.monotonic() + max_seconds
    with client.stream("GET", url, timeout=max_seconds) as response:
        if response.status_code != 200:
            raise FetchError(f"{url} answered HTTP {response.status_code}")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"{url} is larger than {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchError(f"{url} took longer than {max_seconds:g} s to download")
            chunks.append(chunk)
    return b"".join(chunks)


def _sniff(data: bytes) -> str | None:
    for signature, kind in _SIGNATURES.items():
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _decode(data: bytes, url: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if max(image.size) > MAX_SIDE:
                raise FetchError(
                    f"{url} is {image.size[0]}x{image.size[1]}; the limit is {MAX_SIDE} a side"
                )
            image.load()
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise FetchError(f"{url} could not be decoded as an image") from None
