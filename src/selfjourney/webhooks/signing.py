"""Webhook body signatures, byte-compatible with Apiframe's official SDK.

The SDK derives its secret as ``sha256(api_key).digest()`` (raw bytes, not hex) and sends
``X-Webhook-Signature: sha256=<hex of HMAC-SHA256(secret, exact body bytes)>``.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def signing_key(api_key: str) -> bytes:
    """Derive the HMAC secret from an API key; the server stores this, never the key itself."""
    return hashlib.sha256(api_key.encode("utf-8")).digest()


def signature(body: bytes, key: bytes) -> str:
    """Header value for ``body``: ``sha256=`` plus the lowercase hex HMAC-SHA256."""
    return PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str, key: bytes) -> bool:
    """Check a signature header in constant time; accepts ``sha256=<hex>`` or a bare ``<hex>``."""
    received = header.strip()
    if received[: len(PREFIX)].lower() == PREFIX:
        received = received[len(PREFIX) :]
    expected = hmac.new(key, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), received.lower().encode("utf-8"))
