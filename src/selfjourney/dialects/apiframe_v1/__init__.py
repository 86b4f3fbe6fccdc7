"""The Apiframe v1 dialect: the root-level API the ``apiframe-sdk`` Python package speaks.

``models`` (lenient requests, task objects), ``translate`` (requests to commands),
``present`` (jobs to v1 tasks and webhook bodies), ``errors`` (the v1 envelope), ``routes``
and ``pro`` (the Pro API under ``/pro/midjourney``). Choices where the spec leaves room are
in docs/architecture.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from selfjourney.config import Settings
from selfjourney.dialects.apiframe_v1.present import NAME, webhook_headers, webhook_payload
from selfjourney.dialects.apiframe_v1.translate import EVENTS
from selfjourney.dialects.base import Dialect
from selfjourney.webhooks.style import WebhookStyle

if TYPE_CHECKING:
    from fastapi import APIRouter


def routers() -> tuple[APIRouter, ...]:
    """The root v1 routes and the Pro API (imported here: only an API process needs them)."""
    from selfjourney.dialects.apiframe_v1.pro import router as pro_router
    from selfjourney.dialects.apiframe_v1.routes import router

    return (router, pro_router)


def webhook_style(_settings: Settings) -> WebhookStyle:
    """v1 webhooks: the task object as the body, ``x-webhook-secret`` echoed, final events only.

    The server's own delivery rules (timeout, retries) apply: v1 documents none of its own.
    """
    return WebhookStyle(webhook_payload, headers=webhook_headers, events=EVENTS)


dialect = Dialect(name=NAME, routers=routers, webhook_style=webhook_style)

__all__ = ["dialect", "webhook_style"]
