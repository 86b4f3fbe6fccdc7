"""The midapi.ai dialect (``/api/v1/mj/*``, ``/api/v1/common/*``): the kie.ai MJ API's wire format.

``router`` serves it, ``webhook_style`` shapes its callbacks, ``DIALECT`` tags its jobs.
"""

from __future__ import annotations

from selfjourney.config import Settings
from selfjourney.dialects.midapi.render import DIALECT, callback_payload
from selfjourney.dialects.midapi.routes import router
from selfjourney.webhooks.events import WebhookStyle

__all__ = ["DIALECT", "router", "webhook_style"]


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
