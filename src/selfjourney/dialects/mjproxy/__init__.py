"""The midjourney-proxy dialect (``/mj/submit/*``, ``/mj/task/*`` and the speed prefixes
``/mj-fast``, ``/mj-relax``, ``/mj-turbo``): the wire format of novicezk/midjourney-proxy and
trueai-org's superset, spoken by the new-api / one-api relays and the chat web clients.

``models`` (lenient requests, the typed task object), ``buttons`` (customIds), ``translate``
(requests to commands), ``present`` (jobs and held actions to task objects), ``errors`` (the
submit envelope), ``routes`` (submits), ``tasks`` (reads and refused features).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from selfjourney.config import Settings
from selfjourney.dialects.base import Dialect
from selfjourney.dialects.mjproxy.present import NAME, webhook_payload
from selfjourney.webhooks.style import WebhookStyle

if TYPE_CHECKING:
    from fastapi import APIRouter

#: Browser clients (the chatgpt-web-midjourney-proxy page) call these paths directly.
CORS_PREFIXES = ("/mj/", "/mj-fast/mj/", "/mj-relax/mj/", "/mj-turbo/mj/")


def routers() -> tuple[APIRouter, ...]:
    """The routes under every prefix (imported here: only an API process needs them)."""
    from selfjourney.dialects.mjproxy.routes import ROUTERS

    return ROUTERS


def webhook_style(_settings: Settings) -> WebhookStyle:
    """notifyHook: the task object when the task ends (SUCCESS or FAILURE), stored and
    retried by the server's delivery rules. Earlier changes are not sent: deliveries go out
    in parallel, so a late progress POST could land after SUCCESS (spec §12 forbids that)."""
    return WebhookStyle(webhook_payload, events=frozenset({"completed", "failed"}))


dialect = Dialect(
    name=NAME, routers=routers, webhook_style=webhook_style, cors_prefixes=CORS_PREFIXES
)

__all__ = ["dialect", "webhook_style"]
