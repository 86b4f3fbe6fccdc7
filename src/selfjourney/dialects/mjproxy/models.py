"""midjourney-proxy wire models (novicezk/midjourney-proxy and its trueai-org superset).

Requests are lenient like the sources: unknown keys are ignored (clients send ``botType``,
``accountFilter``, ``tools``...), and an explicit ``null`` or ``""`` in an optional field means
"absent" (the Dooy client sends ``notifyHook: ""`` and ``state: ""`` on every call). Responses
are typed exactly: new-api decodes the task object with Go's ``encoding/json``, where one
wrongly typed field fails a whole poll batch (spec §5).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

#: At most this many images in ``base64Array`` (imagine and blend).
MAX_IMAGES = 5
#: Longest prompt taken (the sources set none; this bounds a hostile request).
MAX_PROMPT = 8192
#: ``list-by-condition`` takes at least 1000 ids per call (spec §9.2); this many at most.
MAX_IDS = 10_000
#: A data URL of a 10 MB image, with room for its ``data:image/...;base64,`` head.
MAX_BASE64 = 14_000_000
#: A data URL of an 8 MB mask (the core's mask limit).
MAX_MASK_BASE64 = 11_200_000

Mode = Literal["FAST", "RELAX", "TURBO"]
BotType = Literal["MID_JOURNEY", "NIJI_JOURNEY"]
TaskStatus = Literal["NOT_START", "SUBMITTED", "MODAL", "IN_PROGRESS", "SUCCESS", "FAILURE"]
TaskAction = Literal[
    "IMAGINE", "BLEND", "UPSCALE", "VARIATION", "REROLL", "PAN", "ZOOM", "UPSCALE_HD"
]


def _blank_is_none(value: Any) -> Any:
    """``""`` (and whitespace) in an optional string is the same as leaving it out."""
    return None if isinstance(value, str) and not value.strip() else value


def _not_a_boolean(value: Any) -> Any:
    """JSON ``true``/``false`` are not the numbers 1 and 0 (pydantic's lax mode says they are)."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


def _id_text(value: Any) -> Any:
    """A task id as text: trimmed; a whole number is read as its decimal digits (spec §9.2)."""
    if isinstance(value, bool):
        raise ValueError("a task id is a string or a whole number, not true or false")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else value


TaskId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
OptionalText = Annotated[str | None, BeforeValidator(_blank_is_none)]
State = Annotated[Annotated[str, Field(max_length=255)] | None, BeforeValidator(_blank_is_none)]
NotifyHook = Annotated[
    Annotated[str, Field(max_length=2000)] | None, BeforeValidator(_blank_is_none)
]
Prompt = Annotated[
    Annotated[str, Field(max_length=MAX_PROMPT)] | None, BeforeValidator(_blank_is_none)
]
Image = Annotated[str, Field(max_length=MAX_BASE64)]
OptionalImage = Annotated[Image | None, BeforeValidator(_blank_is_none)]
Mask = Annotated[
    Annotated[str, Field(max_length=MAX_MASK_BASE64)] | None, BeforeValidator(_blank_is_none)
]
Dimensions = Annotated[
    Literal["PORTRAIT", "SQUARE", "LANDSCAPE"] | None, BeforeValidator(_blank_is_none)
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Hooked(_Request):
    #: Echoed in the task's ``state`` (at most 255 characters).
    state: State = None
    #: Where the task object is POSTed when the task ends (the webhook URL policy applies).
    notifyHook: NotifyHook = None


class AccountFilter(_Request):
    """trueai's account filter: only ``modes`` is used (its first entry is the speed)."""

    modes: list[str] | None = None


class _Grid(_Hooked):
    #: ``MID_JOURNEY`` (default) or ``NIJI_JOURNEY`` (also ``mj``, ``niji``); else the default.
    botType: OptionalText = None
    accountFilter: AccountFilter | None = None


class ImagineRequest(_Grid):
    """POST /mj/submit/imagine."""

    prompt: Prompt = None
    #: Image prompts: data URLs (or bare base64) of PNG, JPEG or WebP images.
    base64Array: Annotated[list[Image] | None, Field(max_length=MAX_IMAGES)] = None
    #: Deprecated single image, appended to ``base64Array``.
    base64: OptionalImage = None

    def images(self) -> list[str]:
        return [*(self.base64Array or ()), *([self.base64] if self.base64 else [])]


class BlendRequest(_Grid):
    """POST /mj/submit/blend: 2-5 images mixed into one grid."""

    base64Array: Annotated[list[Image], Field(min_length=2, max_length=MAX_IMAGES)]
    dimensions: Dimensions = None


class ActionRequest(_Hooked):
    """POST /mj/submit/action: press the button ``customId`` of task ``taskId``."""

    taskId: TaskId
    customId: Annotated[str, Field(min_length=1, max_length=300, pattern=r"\S")]
    #: V1-V4 only: true a strong variation, false a subtle one; absent the plain V.
    strong: bool | None = None


class ModalRequest(_Hooked):
    """POST /mj/submit/modal: finish a code-21 action (Vary Region's mask, Custom Zoom's
    prompt)."""

    taskId: TaskId
    maskBase64: Mask = None
    prompt: Prompt = None


class ChangeRequest(_Hooked):
    """POST /mj/submit/change: the legacy U/V/R of a grid."""

    taskId: TaskId
    action: Literal["UPSCALE", "VARIATION", "REROLL"]
    index: Annotated[Annotated[int, Field(ge=1, le=4)] | None, BeforeValidator(_not_a_boolean)] = (
        None
    )


class SimpleChangeRequest(_Hooked):
    """POST /mj/submit/simple-change: ``"<taskId> U2"`` (U1-U4, V1-V4 or R)."""

    content: Annotated[str, Field(min_length=1, max_length=200)]


class ListByConditionRequest(_Request):
    """POST /mj/task/list-by-condition: the tasks of these ids."""

    ids: Annotated[
        list[Annotated[str, BeforeValidator(_id_text)]] | None, Field(max_length=MAX_IDS)
    ] = None


# -- responses ---------------------------------------------------------------------------------


class SubmitResult(BaseModel):
    """Every submit answer and refusal (``SubmitResultVO``): ``result`` is the task id or null."""

    code: int
    description: str
    result: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class Button(BaseModel):
    customId: str
    emoji: str
    label: str
    type: int = 2
    style: int = 2


class ImageUrl(BaseModel):
    url: str


class TaskProperties(BaseModel):
    #: The prompt as rendered: its text and the flags recorded with the task.
    finalPrompt: str
    finalZhPrompt: str = ""
    #: True once retention purged the images.
    expired: bool = False
    #: The configured model that rendered it (``v7``, ``niji6``); left out on a server with no
    #: models table. ``botType`` says only Midjourney or Niji.
    model: str | None = Field(default=None, exclude_if=lambda value: value is None)


class Task(BaseModel):
    """The task object of ``fetch``, ``list-by-condition`` and ``notifyHook`` (spec §5)."""

    id: str
    action: TaskAction
    customId: str | None
    botType: BotType
    mode: Mode
    status: TaskStatus
    #: ``"<n>%"``: ``"100%"`` once SUCCESS or FAILURE.
    progress: str
    prompt: str
    promptEn: str
    description: str
    state: str | None
    #: Epoch milliseconds.
    submitTime: int
    startTime: int | None
    finishTime: int | None
    #: The 2x2 grid composite for grid tasks, the image for single-image tasks.
    imageUrl: str | None
    imageUrls: list[ImageUrl] | None
    videoUrl: None = None
    videoUrls: None = None
    failReason: str | None
    buttons: list[Button]
    properties: TaskProperties
    parentId: str | None
    seed: str | None
