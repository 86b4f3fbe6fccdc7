"""OpenAI Images requests to core commands, and how their pictures go back (``Answer``).

Where each field goes:

- ``prompt``: the job's prompt; Midjourney flags in it work as in every dialect
- ``size``: ``WxH`` is the grid's aspect ratio (W:H reduced, wins over ``--ar``) and the exact
  size answered (a rendition); ``auto`` keeps the core's size (edits: the picture's)
- ``n``: how many of the grid's four pictures are answered, in grid order
- ``response_format``, ``output_format``, ``output_compression``: the ``Answer``
- ``seed`` (-1: random), ``negative_prompt``: the core's ``--seed`` and ``--no``
- ``model``: recorded; it picks the default ``response_format`` (``default_b64``) and, for
  ``dall-e-2`` edits without a mask, makes the picture's transparency the mask; a name of
  this server's models (``Settings.models``: ``v7``, ``niji6``...) renders with that model,
  any other name (``dall-e-3``, ``gpt-image-1``) leaves the choice to ``--v``/``--niji``
- ``quality``, ``style``, ``background``, ``moderation``, ``input_fidelity``, ``user``,
  ``safety_identifier``, unknown fields: recorded in the job's input only
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Literal

from selfjourney.dialects.openai_images.errors import OpenAIError
from selfjourney.dialects.openai_images.fields import parse_size
from selfjourney.dialects.openai_images.forms import Form
from selfjourney.dialects.openai_images.models import (
    OpenAICommonFields,
    OpenAIEditFields,
    OpenAIGenerateRequest,
    OpenAIVariationFields,
)
from selfjourney.dialects.openai_images.present import NAME, Answer
from selfjourney.domain.commands import EditImage, Idempotency, Imagine
from selfjourney.domain.errors import InvalidInput
from selfjourney.domain.flags import Flags
from selfjourney.domain.renditions import ImageFormat, Rendition

Route = Literal["generations", "edits", "variations"]
#: Someone waits on the connection: jobs run at the "fast" priority of midapi and the Pro API.
PRIORITY = 1
MAX_IDEMPOTENCY_KEY = 255
#: ``output_format`` to the rendition's format (``jpg`` is ``jpeg``, as vLLM-Omni accepts).
_FORMATS: dict[str, ImageFormat] = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg", "webp": "webp"}


def default_b64(model: str | None, route: Route) -> bool:
    """``response_format`` when absent: ``url`` for ``dall-e*`` models and for /variations
    without a model (DALL-E's endpoint), ``b64_json`` otherwise (GPT image models, Open WebUI
    and LibreChat with gpt-image-*, and unknown names: never depends on a reachable URL)."""
    if model is None:
        return route != "variations"
    return not model.lower().startswith("dall-e")


def ratio(size: tuple[int, int] | None) -> str | None:
    """``1792x1024`` is ``7:4``: the grid's aspect ratio."""
    if size is None:
        return None
    divisor = math.gcd(*size)
    return f"{size[0] // divisor}:{size[1] // divisor}"


def flags(seed: int | None, negative_prompt: str | None) -> Flags:
    words = tuple(w.strip() for w in (negative_prompt or "").split(",") if w.strip())
    return Flags(seed=None if seed in (None, -1) else seed, negative=words or None)


def answer(fields: OpenAICommonFields, route: Route, prompt: str | None = None) -> Answer:
    output = _FORMATS[fields.output_format or "png"]
    quality = getattr(fields, "quality", None)
    return Answer(
        n=fields.n or 1,
        rendition=Rendition(
            format=output,
            size=parse_size(fields.size) if fields.size else None,
            quality=100 if fields.output_compression is None else fields.output_compression,
        ),
        b64=(
            fields.response_format == "b64_json"
            if fields.response_format is not None
            else default_b64(fields.model, route)
        ),
        events="image_generation" if route == "generations" else "image_edit",
        stream=bool(fields.stream),
        partial_images=getattr(fields, "partial_images", None) or 0,
        quality=quality,
        revised_prompt=prompt is not None,
        prompt_chars=len(prompt or ""),
    )


def to_imagine(body: OpenAIGenerateRequest) -> tuple[Imagine, Answer]:
    wanted = answer(body, "generations", body.prompt)
    command = Imagine(
        prompt=body.prompt,
        aspect_ratio=ratio(wanted.rendition.size),
        input=body.model_dump(mode="json", exclude_unset=True),
        dialect=NAME,
        flags=flags(body.seed, body.negative_prompt),
        priority=PRIORITY,
        model=body.model,
    )
    return command, wanted


def to_edit(fields: OpenAIEditFields, form: Form) -> tuple[EditImage, Answer]:
    """With a mask an inpaint, without one a variation with the prompt (image to image)."""
    wanted = answer(fields, "edits", fields.prompt)
    dall_e_2 = (fields.model or "").lower().startswith("dall-e-2")
    command = EditImage(
        image=_picture(form),
        prompt=fields.prompt,
        mask=form.mask.data if form.mask is not None else None,
        aspect_ratio=ratio(wanted.rendition.size),
        transparency_is_mask=form.mask is None and dall_e_2,
        strength=fields.strength,
        input=form.input(),
        dialect=NAME,
        flags=flags(fields.seed, fields.negative_prompt),
        priority=PRIORITY,
        model=fields.model,
    )
    return command, wanted


def to_variation(fields: OpenAIVariationFields, form: Form) -> tuple[EditImage, Answer]:
    """A variation of the picture with no prompt; OpenAI has no streaming variations."""
    if fields.stream:
        raise OpenAIError(
            400,
            "Invalid value for 'stream': /v1/images/variations does not stream.",
            param="stream",
            code="invalid_value",
        )
    if len(form.images) > 1:
        raise OpenAIError(
            400,
            "Invalid 'image': variations take one picture.",
            param="image",
            code="invalid_value",
        )
    wanted = answer(fields, "variations")
    command = EditImage(
        image=_picture(form),
        prompt="",
        aspect_ratio=ratio(wanted.rendition.size),
        strength=fields.strength,
        input=form.input(),
        dialect=NAME,
        flags=flags(fields.seed, None),
        priority=PRIORITY,
        model=fields.model,
    )
    return command, wanted


def _picture(form: Form) -> bytes:
    if not form.images:
        raise OpenAIError(
            400,
            "Missing required parameter: 'image' (a file part named image or image[]).",
            param="image",
            code="missing_required_parameter",
        )
    return form.images[0].data


def idempotency(key: str | None, route: Route, request: dict[str, Any]) -> Idempotency | None:
    """The core's idempotency: the same key and request replay the job; the request is the
    job's input (parsed JSON, or form fields and file digests), so spacing does not matter."""
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters", "Idempotency-Key")
    canonical = json.dumps({"route": route, "request": request}, sort_keys=True, default=str)
    return Idempotency(key=key, fingerprint=hashlib.sha256(canonical.encode()).hexdigest())


#: Seconds kept in hand before the client's own read timeout, at most.
TIMEOUT_MARGIN = 5.0


def wait_seconds(max_wait: float, read_timeout: str | None) -> float:
    """How long to wait for the job: the server's bound, or less when the SDK says it stops
    reading sooner (``x-stainless-read-timeout``): 5 s before it (half of it when short), so the
    client reads a 504 rather than a dropped connection."""
    try:
        client = float(read_timeout) if read_timeout else math.inf
    except ValueError:
        client = math.inf
    if not math.isfinite(client) or client <= 0:
        return max_wait
    return min(max_wait, client - min(TIMEOUT_MARGIN, client / 2))
