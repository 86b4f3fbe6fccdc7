"""The commands every request becomes, whatever dialect it came in.

``Imagine`` makes a new grid, ``Act`` presses a button on a finished job, ``UpscaleImage``
enlarges a caller's image by URL. ``input`` is the caller's request as it should be echoed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from selfjourney.domain.flags import Flags
from selfjourney.domain.jobs import Webhook
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, References


@dataclass(frozen=True)
class Imagine:
    """A new grid. ``flags`` are the dialect's structured parameters; they win over the
    flags typed in the prompt, and ``aspect_ratio`` wins over both.

    ``images`` are reference images sent inline (encoded bytes: PNG, JPEG or WebP); they join
    ``references`` (mode "image" unless ``references`` says otherwise).
    """

    prompt: str
    aspect_ratio: str | None = None
    webhook: Webhook | None = None
    input: dict[str, Any] = field(default_factory=dict)
    dialect: str = "apiframe_v2"
    flags: Flags = field(default_factory=Flags)
    watermark: str | None = None
    references: References | None = None
    #: Queue priority: higher runs first (midapi's turbo > fast > relaxed).
    priority: int = 0
    images: tuple[bytes, ...] = ()
    #: A dialect's model field (OpenAI ``model``): picks that configured model if it names
    #: one; any other name is ignored (clients send their vendor's names, e.g. dall-e-3).
    model: str | None = None


@dataclass(frozen=True)
class EditImage:
    """A new grid from a caller's picture, with no parent job: with a ``mask``, its region
    repainted (an inpaint); without one, variations of it with the prompt (image-to-image).

    ``image`` and ``mask`` are encoded bytes (PNG, JPEG or WebP). The mask marks what to edit:
    transparent pixels when it has any (OpenAI's rule), else white ones.
    """

    image: bytes
    prompt: str
    mask: bytes | None = None
    #: ``W:H``: crop the picture (and its mask) around its centre to this shape first.
    aspect_ratio: str | None = None
    #: Without a mask, the picture's own transparent pixels (if it has any) are the mask
    #: (OpenAI's dall-e-2 edits); otherwise transparency is flattened like any picture's.
    transparency_is_mask: bool = False
    #: The variation's strength without a mask: "subtle", "strong" or None (the V1-V4 one).
    strength: str | None = None
    webhook: Webhook | None = None
    input: dict[str, Any] = field(default_factory=dict)
    dialect: str = "apiframe_v2"
    flags: Flags = field(default_factory=Flags)
    priority: int = 0
    #: As ``Imagine.model``.
    model: str | None = None


@dataclass(frozen=True)
class Act:
    """A follow-up action on a finished parent job."""

    parent_id: str
    action: JobKind
    args: ActionArgs = field(default_factory=ActionArgs)
    #: A new prompt (inpaint, reroll, outpaint); flags in it are dropped.
    prompt: str | None = None
    #: Inpaint: a base64 image, white where to repaint (never stored with the job's input).
    mask: str | None = None
    #: The mask is a browser canvas export (midjourney-proxy's Vary Region): transparent
    #: pixels keep whatever their colour, and a mask of the picture's shape at another size
    #: (within 2 %) is resized to the picture.
    canvas_mask: bool = False
    webhook: Webhook | None = None
    input: dict[str, Any] = field(default_factory=dict)
    dialect: str = "apiframe_v2"
    watermark: str | None = None
    priority: int = 0


@dataclass(frozen=True)
class UpscaleImage:
    """An upscale of a caller's image by URL (no parent job), downloaded by the worker."""

    image_url: str
    factor: int
    mode: str = "subtle"
    webhook: Webhook | None = None
    input: dict[str, Any] = field(default_factory=dict)
    dialect: str = "apiframe_v1"
    priority: int = 0


@dataclass(frozen=True)
class Idempotency:
    """A client's Idempotency-Key and a fingerprint of the request it came with."""

    key: str
    fingerprint: str
