"""The midapi.ai dialect (``/api/v1/mj/*``, ``/api/v1/common/*``): the kie.ai MJ API's wire format.

``models`` (lenient requests, the ``{code, msg, data}`` envelope), ``translate`` (requests to
commands), ``present`` (jobs to record-info and callbacks), ``errors``, ``routes``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from selfjourney.config import Settings
from selfjourney.dialects.base import Dialect
from selfjourney.dialects.midapi.present import NAME, callback_payload
from selfjourney.webhooks.style import WebhookStyle

if TYPE_CHECKING:
    from fastapi import APIRouter


def routers() -> tuple[APIRouter, ...]:
    """The midapi routes (imported here: only an API process needs them)."""
    from selfjourney.dialects.midapi.routes import router

    return (router,)


def webhook_style(settings: Settings) -> WebhookStyle:
    """Callbacks only when a task ends, 15 s per attempt, retried after 1, 5 and 15 minutes."""
    backoff = tuple(settings.midapi_callback_backoff)
    return WebhookStyle(
        payload=callback_payload,
        events=frozenset({"completed", "failed"}),
        timeout=settings.midapi_callback_timeout,
        backoff=backoff,
        max_attempts=len(backoff) + 1,
    )


dialect = Dialect(name=NAME, routers=routers, webhook_style=webhook_style)

__all__ = ["dialect", "webhook_style"]
