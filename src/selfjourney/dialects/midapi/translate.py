"""midapi requests to core commands.

Where each field goes (the engine draws the difference, or the field is only recorded):

- ``speed``: queue priority, turbo 2 > fast 1 > relaxed 0 (missing: relaxed)
- ``aspectRatio``: ``Imagine.aspect_ratio`` (wins over ``--ar`` in the prompt)
- ``version``: ``Flags.version``; ``niji6``/``niji7`` also ``Flags.niji``
- ``variety``, ``stylization``, ``weirdness``: ``Flags.chaos``, ``.stylize``, ``.weird``
- ``fileUrl(s)``: ``References``, mode image / style / omni by ``taskType``
- ``ow``: the omni reference's weight (see ``omni_weight``)
- ``waterMark`` (or ``watermark``): text drawn on every output image
- ``callBackUrl``: one callback when the task ends
- ``enableTranslation``: recorded only, there is no translator offline
- ``videoBatchSize``, ``motion``: recorded only (video task types answer 505)
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from selfjourney.dialects.midapi.models import (
    MidapiGenerateRequest,
    MidapiUpscaleAliasRequest,
    MidapiUpscaleRequest,
    MidapiVaryRequest,
)
from selfjourney.dialects.midapi.present import NAME
from selfjourney.domain.commands import Act, Imagine
from selfjourney.domain.errors import InvalidInput, Unsupported
from selfjourney.domain.flags import Flags
from selfjourney.domain.jobs import Webhook
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex, ReferenceMode, References

PRIORITY = {"relaxed": 0, "fast": 1, "turbo": 2}
#: Reference mode of each image-guided task type.
REFERENCE_MODES: dict[str, ReferenceMode] = {
    "mj_img2img": "image",
    "mj_style_reference": "style",
    "mj_omni_reference": "omni",
}
VIDEO_TASK_TYPES = frozenset({"mj_video", "mj_video_hd"})
#: Midjourney's default ``--ow``, used when an omni reference comes without ``ow``.
DEFAULT_OW = 100
#: Last grid image: ``generateVary``'s ``imageIndex`` 4 (the docs' 1-4 reading) means it.
LAST_IMAGE = 4
#: The storage keys of generated images: ``images/{job_id}-{n}.png`` or ``-grid.png``.
_OWN_FILE = re.compile(r"^images/([0-9a-f-]{36})-(?:[1-9]\d*|grid)\.png$")
EXTERNAL_URL = "Invalid URL (External file URLs are not supported)"
EXPIRED_FILE = "Invalid URL (the file has expired and was deleted)"


def callback(url: str | None) -> Webhook | None:
    """midapi calls back once, when the task ends (success or failure)."""
    return Webhook(url=url, events=frozenset({"completed", "failed"})) if url else None


def omni_weight(ow: int) -> float:
    """``ow`` 1..1000 to a reference weight 0..1 on a log scale: 1 → 0, 100 → 0.67, 1000 → 1.

    Midjourney's omni weight is multiplicative around its default 100, so equal ratios
    (10 → 100 → 1000) make equal steps.
    """
    return round(math.log10(ow) / 3, 4)


def flags(body: MidapiGenerateRequest) -> Flags:
    """The structured render fields; each wins over the same flag typed in the prompt.

    A numeric ``version`` also means "not niji", so it overrides a ``--niji`` in the prompt.
    """
    version: str | None = body.version
    niji = None if version is None else version.startswith("niji")
    if version is not None:
        version = version.removeprefix("niji")
    return Flags(
        chaos=body.variety,
        stylize=body.stylization,
        weird=body.weirdness,
        version=version,
        niji=niji,
    )


def references(body: MidapiGenerateRequest) -> References | None:
    """The reference images an image-guided task type needs (required: missing is a 422).

    ``fileUrl(s)`` sent with ``mj_txt2img`` are recorded and not used, as the docs say to
    leave them empty for text to image.
    """
    mode = REFERENCE_MODES.get(body.taskType)
    if mode is None:
        return None
    urls = body.file_urls()
    if not urls:
        raise InvalidInput(f"fileUrls is required for taskType {body.taskType}", "fileUrls")
    if mode == "omni":
        return References(urls, mode, omni_weight(body.ow or DEFAULT_OW))
    return References(urls, mode)


def to_imagine(body: MidapiGenerateRequest) -> Imagine:
    if body.taskType in VIDEO_TASK_TYPES:
        raise Unsupported(
            f"Feature Disabled: {body.taskType} (image to video) is not available on this "
            "server yet; image task types are mj_txt2img, mj_img2img, mj_style_reference and "
            "mj_omni_reference",
            "video",
        )
    return Imagine(
        prompt=body.prompt,
        aspect_ratio=body.aspectRatio,
        webhook=callback(body.callBackUrl),
        input=body.model_dump(mode="json", exclude_unset=True),
        dialect=NAME,
        flags=flags(body),
        watermark=body.waterMark or body.watermark,
        references=references(body),
        priority=PRIORITY[body.speed or "relaxed"],
    )


def _act(
    body: MidapiUpscaleRequest | MidapiUpscaleAliasRequest | MidapiVaryRequest, action: JobKind
) -> Act:
    return Act(
        parent_id=body.taskId,
        action=action,
        webhook=callback(body.callBackUrl),
        input=body.model_dump(mode="json", exclude_unset=True),
        dialect=NAME,
        watermark=body.waterMark or body.watermark,
    )


def to_upscale(body: MidapiUpscaleRequest | MidapiUpscaleAliasRequest) -> Act:
    """U1-U4: ``imageIndex`` (or the alias's ``index``) 0-3 is grid image 1-4."""
    index = body.imageIndex if isinstance(body, MidapiUpscaleRequest) else body.grid_index()
    return replace(_act(body, JobKind.UPSAMPLE), args=ActionArgs(index=GridIndex(index + 1)))


def to_vary(body: MidapiVaryRequest) -> Act:
    """V1-V4: 0-3 are 0-based (the schema); 4 is the last image (the notes' 1-4 reading)."""
    index = GridIndex(min(body.imageIndex + 1, LAST_IMAGE))
    return replace(_act(body, JobKind.VARIATION), args=ActionArgs(index=index))


def own_file(url: str, base: str) -> str:
    """The job id behind one of our image URLs (``base`` is our storage URL of key "").

    Anything else, including a URL of ours that is not an image, is an external URL.
    """
    key = url.removeprefix(base) if url.startswith(base) else ""
    match = _OWN_FILE.match(key)
    if match is None:
        raise InvalidInput(EXTERNAL_URL)
    return match.group(1)


def check_not_expired(expired: bool) -> None:
    """A purged image is gone for good: say so rather than hand out a dead URL."""
    if expired:
        raise InvalidInput(EXPIRED_FILE)
