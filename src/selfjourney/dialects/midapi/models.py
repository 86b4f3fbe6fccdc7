"""midapi.ai wire models: lenient like the vendor (unknown keys and nulls are ignored).

Every midapi response is the envelope ``{"code", "msg", "data"}``. Requests refuse what the
vendor's schema refuses (a bad enum value, an out-of-range number, a missing required field) and
ignore keys they do not know, because real clients send fields from other task types (the docs'
own txt2img example carries ``videoBatchSize`` and ``motion``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

TaskType = Literal[
    "mj_txt2img",
    "mj_img2img",
    "mj_style_reference",
    "mj_omni_reference",
    "mj_video",
    "mj_video_hd",
]
Speed = Literal["relaxed", "fast", "turbo"]
AspectRatio = Literal["1:2", "9:16", "2:3", "3:4", "5:6", "6:5", "4:3", "3:2", "1:1", "16:9", "2:1"]
#: The schema's versions plus ``niji7``, which one client offers (spec §3.3: accept it).
Version = Literal["7", "6.1", "6", "5.2", "5.1", "niji6", "niji7"]
#: At most this many reference images per task (midapi documents no limit).
MAX_FILE_URLS = 5
#: Longest watermark text drawn on an image.
MAX_WATERMARK = 100


def _absolute_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL, e.g. https://example.com/a.png")
    return value


def _blank_is_none(value: Any) -> Any:
    """The docs' examples send ``""`` for an unused URL or watermark: the same as leaving it out."""
    return None if value == "" else value


def _version_text(value: Any) -> Any:
    """``7`` and ``6.1`` sent as JSON numbers mean the strings "7" and "6.1"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _not_a_boolean(value: Any) -> Any:
    """JSON ``true``/``false`` are not the numbers 1 and 0 (pydantic's lax mode says they are)."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


#: A whole number in a request: 2, 2.0 or "2", never a boolean.
Whole = Annotated[int, BeforeValidator(_not_a_boolean)]

Url = Annotated[
    str,
    AfterValidator(_absolute_url),
    Field(max_length=2048, json_schema_extra={"format": "uri"}),
]
OptionalUrl = Annotated[Url | None, BeforeValidator(_blank_is_none)]
Watermark = Annotated[
    Annotated[str, Field(max_length=MAX_WATERMARK)] | None, BeforeValidator(_blank_is_none)
]
TaskId = Annotated[str, Field(min_length=1, max_length=100)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MidapiGenerateRequest(_Request):
    """POST /api/v1/mj/generate."""

    #: Required by the vendor's schema, which also names a default: the default wins here.
    taskType: TaskType = "mj_txt2img"
    prompt: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")]
    #: Missing means relaxed, the docs' "free tier option".
    speed: Speed | None = None
    fileUrl: OptionalUrl = None
    fileUrls: Annotated[list[Url] | None, Field(max_length=MAX_FILE_URLS)] = None
    aspectRatio: AspectRatio | None = None
    version: Annotated[Version | None, BeforeValidator(_version_text)] = None
    variety: Annotated[Whole | None, Field(ge=0, le=100)] = None
    stylization: Annotated[Whole | None, Field(ge=0, le=1000)] = None
    weirdness: Annotated[Whole | None, Field(ge=0, le=3000)] = None
    ow: Annotated[Whole | None, Field(ge=1, le=1000)] = None
    waterMark: Watermark = None
    #: One SDK's spelling of ``waterMark``; ``waterMark`` wins when both are sent.
    watermark: Watermark = None
    enableTranslation: bool | None = None
    callBackUrl: OptionalUrl = None
    #: Video-only fields, recorded with the task (video answers 505 for now).
    videoBatchSize: Annotated[Literal[1, 2, 4] | None, BeforeValidator(_not_a_boolean)] = None
    motion: Literal["high", "low"] | None = None

    def file_urls(self) -> tuple[str, ...]:
        """``fileUrls``, then the legacy ``fileUrl`` if it is not among them."""
        urls = list(self.fileUrls or [])
        if self.fileUrl and self.fileUrl not in urls:
            urls.append(self.fileUrl)
        return tuple(urls)


class _Action(_Request):
    taskId: TaskId
    waterMark: Watermark = None
    watermark: Watermark = None
    callBackUrl: OptionalUrl = None


class MidapiUpscaleRequest(_Action):
    """POST /api/v1/mj/generateUpscale: ``imageIndex`` 0-3 picks a grid image (0-based)."""

    imageIndex: Annotated[Whole, Field(ge=0, le=3)]


class MidapiUpscaleAliasRequest(_Action):
    """POST /api/v1/mj/upscale, the quickstart's spelling: ``index`` (or ``imageIndex``) 0-3."""

    index: Annotated[Whole | None, Field(ge=0, le=3)] = None
    imageIndex: Annotated[Whole | None, Field(ge=0, le=3)] = None

    @model_validator(mode="after")
    def _one_index(self) -> MidapiUpscaleAliasRequest:
        if self.index is None and self.imageIndex is None:
            raise ValueError("index is required (0-3, the grid image to upscale)")
        return self

    def grid_index(self) -> int:
        found = self.imageIndex if self.index is None else self.index
        assert found is not None
        return found


class MidapiVaryRequest(_Action):
    """POST /api/v1/mj/generateVary: ``imageIndex`` 0-3 is 0-based; 4 means the last image."""

    imageIndex: Annotated[Whole, Field(ge=0, le=4)]


class MidapiDownloadUrlRequest(_Request):
    """POST /api/v1/common/download-url."""

    url: Annotated[str, Field(min_length=1, max_length=4096)]


class MidapiTaskCreated(BaseModel):
    taskId: str


class MidapiResultUrl(BaseModel):
    resultUrl: str


class MidapiResultInfo(BaseModel):
    resultUrls: list[MidapiResultUrl]


class MidapiRecordInfo(BaseModel):
    """``data`` of GET /api/v1/mj/record-info, as in the vendor's example."""

    taskId: str
    taskType: str
    paramJson: str
    completeTime: str | None
    resultInfoJson: MidapiResultInfo | None
    successFlag: Literal[0, 1, 2, 3]
    createTime: str
    errorCode: int | None
    errorMessage: str | None


class _Envelope(BaseModel):
    code: int
    msg: str


class MidapiFailure(_Envelope):
    """Every refusal, with HTTP 200: the real status in ``code`` (400 malformed JSON, 401 key,
    402 credits, 404 unknown task, 422 validation, 455, 500, 505 feature disabled), ``data`` null.
    """

    data: None = None


class MidapiTaskCreatedResponse(_Envelope):
    data: MidapiTaskCreated


class MidapiRecordInfoResponse(_Envelope):
    data: MidapiRecordInfo


class MidapiCreditResponse(_Envelope):
    data: int


class MidapiDownloadUrlResponse(_Envelope):
    data: str
