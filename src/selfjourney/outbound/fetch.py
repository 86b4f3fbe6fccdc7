"""Downloading a caller's image (reference images, /blend inputs, an image to upscale).

Limits: 10 MB, 20 s in all, PNG / JPEG / WebP recognised by their first bytes (not by the
name or the Content-Type), and the size the file declares checked before it is decoded
(``imaging.inputs``: at most 4096 x 4096 pixels).
"""

from __future__ import annotations

import time

import httpx
from PIL import Image

from selfjourney.domain.errors import InvalidImage, UnsafeUrl
from selfjourney.imaging.inputs import SizeCheck, open_image

MAX_BYTES = 10 * 1024 * 1024
MAX_SECONDS = 20.0


class FetchError(Exception):
    """An image that could not be used; the message says why, for the job's error."""


def fetch_image(
    client: httpx.Client,
    url: str,
    *,
    check: SizeCheck | None = None,
    fit: int | None = None,
    max_bytes: int = MAX_BYTES,
    max_seconds: float = MAX_SECONDS,
) -> Image.Image:
    """The decoded RGB image at ``url``, or FetchError with a reason a person understands.

    ``check`` and ``fit`` are ``imaging.inputs.open_image``'s: a use's own rule on the declared
    size, before decoding, and a size to shrink to while decoding. Use a client from
    ``guard.guarded_client``: the outbound policy applies at connect time.
    """
    try:
        data = _download(client, url, max_bytes, max_seconds)
    except UnsafeUrl as exc:
        raise FetchError(f"{url} is not allowed: {exc.message}") from None
    except httpx.TimeoutException:
        raise FetchError(f"{url} took longer than {max_seconds:g} s to answer") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"could not download {url}: {exc}") from None
    try:
        return open_image(data, field=url, check=check, fit=fit).convert("RGB")
    except InvalidImage as exc:
        raise FetchError(exc.message) from None


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
