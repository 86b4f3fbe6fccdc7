"""The Apiframe v2 dialect (``/v2/...``, ``X-API-Key``): the vendor's OpenAPI contract.

``models`` (strict requests, responses), ``translate`` (requests to commands), ``present``
(jobs to v2 JSON and webhook bodies), ``errors`` (the v2 envelope), ``routes``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from selfjourney.config import Settings
from selfjourney.dialects.apiframe_v2.present import NAME, webhook_payload
from selfjourney.dialects.base import Dialect
from selfjourney.webhooks.style import WebhookStyle

if TYPE_CHECKING:
    from fastapi import APIRouter


def routers() -> tuple[APIRouter, ...]:
    """The v2 routes (imported here: only an API process needs them)."""
    from selfjourney.dialects.apiframe_v2.routes import router

    return (router,)


def webhook_style(_settings: Settings) -> WebhookStyle:
    """v2 webhooks: every event the subscriber names, the server's delivery rules."""
    return WebhookStyle(webhook_payload)


dialect = Dialect(name=NAME, routers=routers, webhook_style=webhook_style)

__all__ = ["dialect"]
