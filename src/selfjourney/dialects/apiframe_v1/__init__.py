"""The Apiframe v1 dialect: the root-level API the ``apiframe-sdk`` Python package speaks.

``models`` (lenient requests, task objects), ``translate`` (requests to core commands),
``render`` (jobs to v1 tasks and webhook bodies), ``errors`` (the v1 envelope), ``routes``
and ``pro`` (the Pro API under ``/pro/midjourney``, ``pro_router``). Choices where the spec
leaves room are in docs/architecture.md.
"""

from __future__ import annotations

from selfjourney.config import Settings
from selfjourney.dialects.apiframe_v1.pro import router as pro_router
from selfjourney.dialects.apiframe_v1.render import DIALECT, webhook_headers, webhook_payload
from selfjourney.dialects.apiframe_v1.routes import router
from selfjourney.dialects.apiframe_v1.translate import EVENTS
from selfjourney.webhooks.events import WebhookStyle

__all__ = ["DIALECT", "pro_router", "router", "webhook_style"]


def webhook_style(_settings: Settings) -> WebhookStyle:
    """v1 webhooks: the task object as the body, ``x-webhook-secret`` echoed, final events only.

    The server's own delivery rules (timeout, retries) apply: v1 documents none of its own.
    """
    return WebhookStyle(webhook_payload, headers=webhook_headers, events=EVENTS)
