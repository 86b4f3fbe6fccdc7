"""How one dialect's webhooks look and are retried: a value each dialect builds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from selfjourney.domain.jobs import Job

#: Renders a dialect's payload for (job, event), given a function from storage key to URL.
Formatter = Callable[[Job, str, Callable[[str], str]], dict[str, Any]]
USER_AGENT = "selfjourney-webhooks/0.1"


def no_headers(_job: Job) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class WebhookStyle:
    """How one dialect's webhooks look and are retried.

    Every delivery carries ``X-Webhook-Event``, ``X-Webhook-Id`` and the HMAC signature;
    ``headers`` adds the dialect's own (Apiframe v1 echoes ``webhook_secret``).
    ``events`` limits what the dialect ever sends (midapi calls back only at the end);
    ``timeout``, ``backoff`` and ``max_attempts`` override the server's delivery rules.
    """

    payload: Formatter
    headers: Callable[[Job], dict[str, str]] = no_headers
    events: frozenset[str] = frozenset({"progress", "completed", "failed"})
    timeout: float | None = None
    backoff: tuple[float, ...] | None = None
    max_attempts: int | None = None
