"""Every dialect this server speaks. Adding one is a new package and one line here."""

from __future__ import annotations

from collections.abc import Mapping

from selfjourney.config import Settings
from selfjourney.dialects import apiframe_v1, apiframe_v2, midapi, mjproxy, openai_images
from selfjourney.dialects.base import Dialect
from selfjourney.webhooks.style import WebhookStyle

DIALECTS: tuple[Dialect, ...] = (
    apiframe_v2.dialect,
    midapi.dialect,
    apiframe_v1.dialect,
    mjproxy.dialect,
    openai_images.dialect,
)


def webhook_styles(
    settings: Settings, dialects: tuple[Dialect, ...] = DIALECTS
) -> Mapping[str, WebhookStyle]:
    """Each dialect's webhook style, by the name its jobs carry."""
    return {dialect.name: dialect.webhook_style(settings) for dialect in dialects}
