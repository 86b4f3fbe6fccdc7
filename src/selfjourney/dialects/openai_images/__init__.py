"""The OpenAI Images dialect (``/v1/images/*``, ``/v1/models``, ``Authorization: Bearer``).

Synchronous over the asynchronous core: a request creates one ordinary job, waits for it on
the job feed (no thread per waiter) and answers with its pictures, or streams them as
server-sent events. ``fields`` and ``models`` (lenient requests, responses), ``forms``
(multipart bodies), ``translate`` (requests to commands), ``present`` (jobs to responses and
events), ``delivery`` (the wait and the answer), ``errors`` (OpenAI's envelope), ``routes``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from selfjourney.config import Settings
from selfjourney.dialects.base import Dialect
from selfjourney.dialects.openai_images.present import NAME, webhook_payload
from selfjourney.webhooks.style import WebhookStyle

if TYPE_CHECKING:
    from fastapi import APIRouter


def routers() -> tuple[APIRouter, ...]:
    """The /v1 routes (imported here: only an API process needs them)."""
    from selfjourney.dialects.openai_images.routes import router

    return (router,)


def webhook_style(_settings: Settings) -> WebhookStyle:
    """No webhooks: the answer is the HTTP response itself (jobs carry no subscriber)."""
    return WebhookStyle(webhook_payload, events=frozenset())


dialect = Dialect(name=NAME, routers=routers, webhook_style=webhook_style)

__all__ = ["dialect"]
