"""Apiframe v2 wire models, strict like the vendor's Zod schemas (unknown keys are a 400)."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

WebhookEvent = Literal["progress", "completed", "failed"]
StatusName = Literal["QUEUED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"]


def _absolute_url(value: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        raise ValueError("must be an absolute URL, e.g. https://example.com/hook")
    return value


def _uuid_text(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("must be a UUID") from None


def _number_in(allowed: tuple[float, ...], integral: bool) -> Any:
    """Accept JSON numbers equal to one of ``allowed`` (2 and 2.0 alike), never booleans."""

    def check(value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be one of {', '.join(_fmt(a) for a in allowed)}")
        if not math.isfinite(value) or float(value) not in allowed:
            raise ValueError(f"must be one of {', '.join(_fmt(a) for a in allowed)}")
        return int(value) if integral else value

    return check


def _fmt(number: float) -> str:
    return str(int(number)) if number.is_integer() else str(number)


WebhookUrl = Annotated[
    str, AfterValidator(_absolute_url), Field(json_schema_extra={"format": "uri"})
]
WebhookEvents = Annotated[list[WebhookEvent], Field(min_length=1)]
JobId = Annotated[str, AfterValidator(_uuid_text), Field(json_schema_extra={"format": "uuid"})]
GridIndex = Annotated[
    int,
    BeforeValidator(_number_in((1.0, 2.0, 3.0, 4.0), integral=True)),
    WithJsonSchema({"type": "number", "enum": [1, 2, 3, 4]}),
]
ZoomRatio = Annotated[
    int | float,
    BeforeValidator(_number_in((1.5, 2.0), integral=False)),
    WithJsonSchema({"type": "number", "enum": [1.5, 2]}),
]


def _optional_not_nullable(schema: dict[str, Any]) -> None:
    """Publish ``X | None = None`` fields as optional ``X``: null is refused, not allowed."""
    for prop in schema.get("properties", {}).values():
        branches = prop.get("anyOf", [])
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1 and len(branches) == 2:
            del prop["anyOf"]
            prop.pop("default", None)
            prop.update(kept[0])


class _Strict(BaseModel):
    """Unknown keys and explicit nulls are refused, as Zod's ``.optional()`` refuses them."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_optional_not_nullable)

    @field_validator(
        "midjourneyParams",
        "aspect_ratio",
        "webhookUrl",
        "webhookEvents",
        "prompt",
        mode="before",
        check_fields=False,
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null (omit the field instead)")
        return value


class MidjourneyParams(_Strict):
    aspect_ratio: Annotated[str, Field(pattern=r"^\d+:\d+$", examples=["16:9"])] | None = None


class GenerateRequest(_Strict):
    """POST /v2/images/generate with ``model: "midjourney"``."""

    model: Literal["midjourney"]
    prompt: Annotated[str, Field(min_length=1, max_length=2000)]
    midjourneyParams: MidjourneyParams | None = None
    webhookUrl: WebhookUrl | None = None
    webhookEvents: WebhookEvents | None = None


class _Action(_Strict):
    parentJobId: JobId
    webhookUrl: WebhookUrl | None = None
    webhookEvents: WebhookEvents | None = None


class UpsampleRequest(_Action):
    action: Literal["upsample"]
    index: GridIndex


class VariationRequest(_Action):
    action: Literal["variation"]
    index: GridIndex


#: The inpaint mask, as the core reads it (``imaging/masks.py``).
MASK_FORMAT = (
    "The region to repaint: an image (PNG, JPEG or WebP) exactly the size of the parent "
    "upsample, base64-encoded, optionally as a data: URL (data:image/png;base64,...); at most "
    "8 MB decoded. It is read as greyscale: white (>= 128) is repainted, black is kept, and "
    "transparency is ignored, so paint the kept area black. It must mark some area."
)


class InpaintRequest(_Action):
    action: Literal["inpaint"]
    mask: Annotated[str, Field(min_length=1, max_length=12_000_000, description=MASK_FORMAT)]
    prompt: Annotated[str, Field(max_length=2000)] | None = None


class OutpaintRequest(_Action):
    action: Literal["outpaint"]
    zoomRatio: ZoomRatio


class PanRequest(_Action):
    action: Literal["pan"]
    direction: Literal["up", "down", "left", "right"]


ActionRequest = Annotated[
    UpsampleRequest | VariationRequest | InpaintRequest | OutpaintRequest | PanRequest,
    Field(discriminator="action"),
]
ACTION_TAGS = frozenset({"upsample", "variation", "inpaint", "outpaint", "pan"})


AcceptedStatus = Literal["QUEUED", "PROCESSING", "COMPLETED", "FAILED"]


class JobAccepted(BaseModel):
    jobId: str
    status: AcceptedStatus


class JobDetails(BaseModel):
    """selfjourney's own facts about a job, beside the vendor's fields (its Job schema allows
    more properties): what a client needs to draw a job's buttons and its family."""

    #: imagine, upsample, variation, inpaint, outpaint, pan, reroll or upscale.
    kind: str
    #: The prompt the engine saw (flags removed).
    prompt: str
    #: The render flags: from the prompt (``--ar``, ``--chaos``...) or ``midjourneyParams``.
    flags: dict[str, Any]
    seed: int
    #: The job this one followed, or null.
    parentJobId: str | None
    #: The button's arguments: ``index``, ``direction``, ``zoom_ratio``, ``factor``,
    #: ``strength``... (empty for a new grid).
    args: dict[str, Any]
    #: The configured model that renders it (``v7``, ``niji6``...; ``GET /v2/models``). Left
    #: out on a server with no models table, and for jobs from before models were named.
    model: str | None = Field(default=None, exclude_if=lambda value: value is None)
    #: Pixel size of each result image; null until it is done.
    width: int | None
    height: int | None
    #: The follow-ups this job can take now, in any dialect: ``upsample``, ``variation``,
    #: ``reroll``, ``inpaint``, ``outpaint``, ``pan``; and through Apiframe v1 routes
    #: ``upscale_2x``, ``upscale_4x`` (/upscale-highres), ``vary_subtle``, ``vary_strong``
    #: (/pro/midjourney/vary on the grid). Empty until COMPLETED, and once expired.
    actions: list[str]


class JobSummary(BaseModel):
    """A job in a list (no ``input``)."""

    id: str
    status: StatusName
    model: str
    progress: int | None
    result: dict[str, Any] | None
    error: str | None
    creditCost: int | None
    webhookStatus: Literal["pending", "delivered", "failed"] | None
    createdAt: str
    completedAt: str | None
    expired: bool
    #: Not in the vendor's contract: selfjourney's additions, in one place.
    selfjourney: JobDetails


class JobPublic(JobSummary):
    """GET /v2/jobs/{id}: the contract's Job object."""

    input: dict[str, Any] | None


class JobList(BaseModel):
    jobs: list[JobSummary]
    nextCursor: str | None
    hasMore: bool
    models: list[str] | None = None


class MeUser(BaseModel):
    id: str
    email: str
    role: str


class MeTeam(BaseModel):
    id: str
    name: str
    plan: str
    credits: int
    customerId: str | None
    maxConcurrentJobs: int


class MeKey(BaseModel):
    id: str
    name: str
    prefix: str


class Me(BaseModel):
    user: MeUser
    team: MeTeam | None
    apiKey: MeKey | None


class ModelEntry(BaseModel):
    id: str
    label: str
    modality: Literal["image", "video", "music"]
    description: str
    costMin: float
    costMax: float
    pricingMode: Literal["flat", "per-second", "per-output"]
    selfjourney: ModelsDetails | None = None


class ServedModel(BaseModel):
    """One of this server's configured models (``SELFJOURNEY_MODELS``)."""

    #: What ``selfjourney.model`` of a job says, e.g. ``v7``, ``niji6``.
    name: str
    #: The ``--v``/``--niji`` it answers to besides its name (``niji``, ``v6.1``; ``*``: any).
    aliases: list[str]
    #: Renders jobs that ask for no model.
    default: bool


class ModelsDetails(BaseModel):
    """selfjourney's own facts on the Midjourney entry (the contract's entries allow more
    fields): which models render, picked per job by ``--v N`` / ``--niji N`` in the prompt."""

    models: list[ServedModel]


class ModelCatalog(BaseModel):
    models: list[ModelEntry]


class ErrorResponse(BaseModel):
    error: str


class ValidationErrorResponse(BaseModel):
    error: str
    details: dict[str, list[str]] = {}


class InsufficientCreditsResponse(BaseModel):
    error: Literal["Insufficient credits"]
    creditsRequired: int
    creditsAvailable: int
