"""Apiframe v2 requests to core commands."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace

from selfjourney.dialects.apiframe_v2.models import (
    ActionRequest,
    GenerateRequest,
    InpaintRequest,
    OutpaintRequest,
    PanRequest,
    UpsampleRequest,
    VariationRequest,
)
from selfjourney.dialects.apiframe_v2.present import NAME
from selfjourney.domain.commands import Act, Idempotency, Imagine
from selfjourney.domain.errors import InvalidInput
from selfjourney.domain.jobs import DEFAULT_EVENTS, Webhook
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex
from selfjourney.domain.sizes import Direction

MAX_IDEMPOTENCY_KEY = 255


def webhook(url: str | None, events: Sequence[str] | None) -> Webhook | None:
    if url is None:
        return None
    return Webhook(url=url, events=frozenset(events) if events else DEFAULT_EVENTS)


def idempotency(
    key: str | None, route: str, body: GenerateRequest | ActionRequest
) -> Idempotency | None:
    """Fingerprint the parsed body, so whitespace and key order do not matter."""
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters", "Idempotency-Key")
    canonical = json.dumps(
        {"route": route, "body": body.model_dump(mode="json", exclude_unset=True)}, sort_keys=True
    )
    return Idempotency(key=key, fingerprint=hashlib.sha256(canonical.encode()).hexdigest())


def to_imagine(body: GenerateRequest) -> Imagine:
    ratio = body.midjourneyParams.aspect_ratio if body.midjourneyParams else None
    return Imagine(
        prompt=body.prompt,
        aspect_ratio=ratio,  # None: the prompt's --ar, else 1:1 (the core decides)
        webhook=webhook(body.webhookUrl, body.webhookEvents),
        input=body.model_dump(mode="json", exclude_unset=True),
        dialect=NAME,
    )


def to_act(body: ActionRequest) -> Act:
    base = Act(
        parent_id=body.parentJobId,
        action=JobKind(body.action),
        webhook=webhook(body.webhookUrl, body.webhookEvents),
        input=body.model_dump(mode="json", exclude_unset=True, exclude={"mask"}),
        dialect=NAME,
    )
    if isinstance(body, UpsampleRequest | VariationRequest):
        return replace(base, args=ActionArgs(index=GridIndex(body.index)))
    if isinstance(body, OutpaintRequest):
        return replace(base, args=ActionArgs(zoom_ratio=float(body.zoomRatio)))
    if isinstance(body, PanRequest):
        return replace(base, args=ActionArgs(direction=Direction(body.direction)))
    assert isinstance(body, InpaintRequest)
    return replace(base, mask=body.mask, prompt=body.prompt)
