"""OpenAI Images wire models: lenient requests (unknown fields are kept in the job's input,
never a 400; null means absent), the ``ImagesResponse``, the models list, the error body.

Names start with ``OpenAI`` so that no schema in the served OpenAPI document collides with
another dialect's.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from selfjourney.dialects.openai_images import fields as f


class _Lenient(BaseModel):
    """Unknown fields are accepted and recorded: Open WebUI merges an admin's extra params into
    every request, and newer SDKs send fields this server does not know."""

    model_config = ConfigDict(extra="allow")


class OpenAICommonFields(_Lenient):
    """Fields of every image route."""

    model: f.Name = None
    n: f.Count = None
    size: f.Size = None
    response_format: f.ResponseFormat = None
    output_format: f.OutputFormat = None
    output_compression: f.Compression = None
    user: f.User = None
    stream: f.Stream = None
    #: Extension (vLLM-Omni's name): the grid's --seed; -1 means random.
    seed: f.Seed = None


class _Prompted(OpenAICommonFields):
    prompt: f.Prompt
    quality: f.Quality = None
    background: f.Background = None
    safety_identifier: f.SafetyIdentifier = None
    partial_images: f.PartialImages = None
    #: Extension: comma-separated words the picture should not show (the core's --no).
    negative_prompt: f.NegativePrompt = None


class OpenAIGenerateRequest(_Prompted):
    """POST /v1/images/generations (JSON)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "gpt-image-1",
                    "prompt": "a lighthouse at dawn --chaos 20",
                    "n": 2,
                    "size": "1536x1024",
                    "response_format": "b64_json",
                    "seed": 1234,
                }
            ]
        }
    )

    style: f.Style = None
    moderation: f.Moderation = None


class OpenAIEditFields(_Prompted):
    """The text fields of POST /v1/images/edits (multipart, beside ``image``/``image[]`` and
    ``mask``)."""

    input_fidelity: f.Fidelity = None
    #: Extension: without a mask, Vary (Subtle) or Vary (Strong) instead of V1-V4's strength.
    strength: f.Strength = None


class OpenAIVariationFields(OpenAICommonFields):
    """The text fields of POST /v1/images/variations (multipart, beside ``image``)."""

    strength: f.Strength = None


class OpenAIImage(BaseModel):
    """One picture: ``b64_json`` or ``url`` (never both), and the text the engine rendered."""

    b64_json: str | None = None
    url: str | None = None
    revised_prompt: str | None = None


class OpenAITokenDetails(BaseModel):
    text_tokens: int
    image_tokens: int


class OpenAIUsage(BaseModel):
    """Token counts are estimates (this server has no tokens); ``credits`` is what the request
    cost the key (0 once refunded)."""

    input_tokens: int
    input_tokens_details: OpenAITokenDetails
    output_tokens: int
    output_tokens_details: OpenAITokenDetails
    total_tokens: int
    credits: int


class OpenAIImagesResponse(BaseModel):
    """The answer of every image route; ``job_id`` is the core job (an extension)."""

    created: int
    data: list[OpenAIImage]
    size: str
    output_format: Literal["png", "jpeg", "webp"]
    background: Literal["opaque"]
    quality: str | None = None
    usage: OpenAIUsage
    job_id: str


class OpenAIModel(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class OpenAIModelList(BaseModel):
    object: Literal["list"]
    data: list[OpenAIModel]


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None
    #: The job a failed or timed-out request created (an extension).
    job_id: str | None = None


class OpenAIErrorBody(BaseModel):
    error: OpenAIErrorDetail


def form_schema(model: type[BaseModel], files: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of a multipart route: ``model``'s fields plus ``files``."""
    schema = model.model_json_schema()
    properties = {**schema.get("properties", {}), **files}
    body = {"type": "object", "properties": properties, "required": schema.get("required", [])}
    return {"required": True, "content": {"multipart/form-data": {"schema": body}}}


BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
EDIT_BODY = form_schema(
    OpenAIEditFields,
    {
        "image": {**BINARY, "description": "The picture to edit (PNG, JPEG or WebP)"},
        "image[]": {
            "type": "array",
            "items": BINARY,
            "maxItems": 16,
            "description": "Pictures, the first edited (the others are recorded)",
        },
        "mask": {**BINARY, "description": "Transparent (or, with no alpha, white) = edit"},
    },
)
VARIATION_BODY = form_schema(
    OpenAIVariationFields, {"image": {**BINARY, "description": "The picture to vary"}}
)
