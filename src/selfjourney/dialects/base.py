"""What every dialect is: a ``Dialect`` object, one per wire format, exported by its package.

Importing a dialect's package imports no web framework: its routes are imported only when an
app asks for them (``routers()``), so a worker process can read the dialects' webhook styles
without FastAPI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from selfjourney.config import Settings
from selfjourney.webhooks.style import WebhookStyle

if TYPE_CHECKING:
    from fastapi import APIRouter


@dataclass(frozen=True)
class Dialect:
    """One wire format: the name its jobs carry, its routes, and how its webhooks look.

    The app is built from the list in ``registry``.
    """

    #: Stored with each job it creates, so its webhooks use ``webhook_style``.
    name: str
    #: The dialect's routers, imported when called (only an API process calls it).
    routers: Callable[[], tuple[APIRouter, ...]]
    #: The dialect's webhook bodies, headers and retry rules, from the settings.
    webhook_style: Callable[[Settings], WebhookStyle]
    #: Path prefixes whose routes browsers call directly: they answer CORS (any origin; keys
    #: travel in headers, never cookies). Empty: no CORS.
    cors_prefixes: tuple[str, ...] = ()
