"""midjourney-proxy requests to core commands.

Where each field goes:

- ``prompt``: the grid's prompt; its flags work as in every dialect; ``--fast``, ``--relax``
  and ``--turbo`` are a speed, taken out of the text the engine sees
- speed (path prefix, then ``accountFilter.modes[0]``, then a prompt flag; default FAST):
  the queue priority, shown in the task's ``mode``; follow-ups keep their parent's unless
  their own path prefix says otherwise
- ``base64Array`` (+ legacy ``base64``): inline reference images (``Imagine.images``)
- ``botType`` ``NIJI_JOURNEY``: ``--niji`` unless the prompt names ``--niji`` or ``--v``
- ``state``: echoed in the task; ``notifyHook``: one callback when the task ends
- ``customId``: the button (``buttons``); ``strong``: V1-V4's strength
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from selfjourney.dialects.mjproxy.buttons import Kind, Press
from selfjourney.dialects.mjproxy.models import (
    ActionRequest,
    BlendRequest,
    ImagineRequest,
    ModalRequest,
    Mode,
)
from selfjourney.dialects.mjproxy.present import NAME, PRIORITY
from selfjourney.domain.commands import Act, Imagine
from selfjourney.domain.errors import InvalidImage, InvalidInput, InvalidMask
from selfjourney.domain.flags import Flags, parse_prompt
from selfjourney.domain.held import HeldAction
from selfjourney.domain.jobs import Job, Webhook
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex, References
from selfjourney.domain.sizes import Direction

#: The sources call back when a task ends; earlier changes are not sent (see the docs).
EVENTS = frozenset({"completed", "failed"})
#: Each inline image, decoded, at most this large (spec §3.1).
MAX_IMAGE_BYTES = 10 * 1024 * 1024
DEFAULT_MODE: Mode = "FAST"
#: ``/submit/blend`` shapes (Midjourney's own).
DIMENSIONS = {"PORTRAIT": "2:3", "SQUARE": "1:1", "LANDSCAPE": "3:2"}
_MODES: dict[str, Mode] = {"FAST": "FAST", "RELAX": "RELAX", "TURBO": "TURBO"}
_SPEED_FLAG = re.compile(r"(?:(?<=\s)|^)--(fast|relax|turbo)\b", re.IGNORECASE)
_ZOOM_FLAG = re.compile(r"(?:(?<=\s)|^)--zoom(?:\s+(\S+))?", re.IGNORECASE)
_DATA_URL = re.compile(r"^data:[\w/.+-]*;base64,", re.IGNORECASE)


def webhook(url: str | None) -> Webhook | None:
    return Webhook(url=url, events=EVENTS) if url else None


def _input(body: Any, *, exclude: set[str] | None = None) -> dict[str, Any]:
    """The request as sent, for the job's ``input``; never its images or mask."""
    dumped: dict[str, Any] = body.model_dump(
        mode="json",
        exclude_unset=True,
        exclude={"base64Array", "base64", "maskBase64"} | (exclude or set()),
    )
    return dumped


def speed(prefix: Mode | None, body: ImagineRequest | BlendRequest, prompt: str = "") -> Mode:
    """The path prefix, then ``accountFilter.modes[0]``, then a prompt flag; else FAST."""
    if prefix is not None:
        return prefix
    modes = body.accountFilter.modes if body.accountFilter else None
    if modes and (chosen := _MODES.get(str(modes[0]).upper())):
        return chosen
    flags = _SPEED_FLAG.findall(prompt)
    return _MODES[flags[-1].upper()] if flags else DEFAULT_MODE


def images(texts: list[str]) -> tuple[bytes, ...]:
    """``base64Array`` decoded: data URLs or bare base64, each at most 10 MB."""
    return tuple(_decode(text, n) for n, text in enumerate(texts))


def _decode(text: str, n: int) -> bytes:
    field = f"images.{n}"
    try:
        data = base64.b64decode(_DATA_URL.sub("", text.strip(), count=1), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidImage(
            f"{field} is not base64 (send a data URL, e.g. data:image/png;base64,...)", field
        ) from None
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidImage(f"{field} is {len(data)} bytes decoded; the limit is 10 MB", field)
    return data


def _niji(bot_type: str | None, prompt: str) -> Flags:
    """``NIJI_JOURNEY`` (or ``niji``) means ``--niji`` unless the prompt picks a model itself."""
    if (bot_type or "").strip().upper() not in ("NIJI_JOURNEY", "NIJI"):
        return Flags()
    _, in_prompt = parse_prompt(prompt)
    return Flags() if in_prompt.niji is not None or in_prompt.version else Flags(niji=True)


def to_imagine(body: ImagineRequest, prefix: Mode | None) -> Imagine:
    text = body.prompt or ""
    if not text.strip():
        raise InvalidInput("prompt is required", "prompt")
    return Imagine(
        prompt=_SPEED_FLAG.sub(" ", text),
        webhook=webhook(body.notifyHook),
        input=_input(body),
        dialect=NAME,
        flags=_niji(body.botType, text),
        priority=PRIORITY[speed(prefix, body, text)],
        images=images(body.images()),
    )


def to_blend(body: BlendRequest, prefix: Mode | None) -> Imagine:
    """An imagine with no prompt whose inline images are blended (``References`` "blend")."""
    return Imagine(
        prompt="",
        aspect_ratio=DIMENSIONS[body.dimensions or "SQUARE"],
        references=References(mode="blend", weight=1.0),
        webhook=webhook(body.notifyHook),
        input=_input(body),
        dialect=NAME,
        flags=_niji(body.botType, ""),
        priority=PRIORITY[speed(prefix, body)],
        images=images(body.base64Array),
    )


# -- buttons -----------------------------------------------------------------------------------


def _strength(strong: bool | None) -> str | None:
    return None if strong is None else ("strong" if strong else "subtle")


def press_command(
    press: Press, task: Job, body: ActionRequest | Any, prefix: Mode | None, prompt: str = ""
) -> Act:
    """The core action of a press on ``task`` (its buttons already checked).

    ``body`` is the request (for ``state``, ``notifyHook``, ``strong`` and the echoed input);
    ``prompt`` is the text a Custom Zoom's form starts from.
    """
    parent, args, text = task.id, _args(press, body), None
    kind = _KINDS[press.kind]
    if press.kind in (Kind.VARY_SUBTLE, Kind.VARY_STRONG):
        # The core varies grid images: the upsample's own image of its grid.
        assert task.parent_id is not None and task.params.action.index is not None
        parent = task.parent_id
        strength = "subtle" if press.kind is Kind.VARY_SUBTLE else "strong"
        args = ActionArgs(index=task.params.action.index, strength=strength)
    if press.kind is Kind.CUSTOM_ZOOM:
        text = prompt
    return Act(
        parent_id=parent,
        action=kind,
        args=args,
        prompt=text,
        webhook=webhook(getattr(body, "notifyHook", None)),
        input=_input(body),
        dialect=NAME,
        priority=PRIORITY[prefix] if prefix is not None else task.params.priority,
    )


_KINDS = {
    Kind.UPSAMPLE: JobKind.UPSAMPLE,
    Kind.VARIATION: JobKind.VARIATION,
    Kind.REROLL: JobKind.REROLL,
    Kind.VARY_SUBTLE: JobKind.VARIATION,
    Kind.VARY_STRONG: JobKind.VARIATION,
    Kind.VARY_REGION: JobKind.INPAINT,
    Kind.ZOOM_OUT: JobKind.OUTPAINT,
    Kind.MAKE_SQUARE: JobKind.OUTPAINT,
    Kind.CUSTOM_ZOOM: JobKind.OUTPAINT,
    Kind.PAN: JobKind.PAN,
    Kind.UPSCALE: JobKind.UPSCALE,
}


def _args(press: Press, body: Any) -> ActionArgs:
    index = GridIndex(press.index) if press.index is not None else None
    if press.kind is Kind.VARIATION:
        return ActionArgs(index=index, strength=_strength(getattr(body, "strong", None)))
    if press.kind is Kind.ZOOM_OUT:
        return ActionArgs(zoom_ratio=press.zoom)
    if press.kind is Kind.MAKE_SQUARE:
        return ActionArgs(zoom_ratio=1.0, shape="1:1")
    if press.kind is Kind.PAN:
        return ActionArgs(direction=Direction(press.direction or ""))
    if press.kind is Kind.UPSCALE:
        return ActionArgs(factor=press.factor, mode=press.mode)
    return ActionArgs(index=index)


# -- the modal ---------------------------------------------------------------------------------


def modal_command(held: HeldAction, body: ModalRequest) -> Act:
    """The held press, now with its form: Vary Region's mask (and prompt), or Custom Zoom's
    prompt with ``--zoom`` (and ``--ar``). ``state`` and ``notifyHook`` replace the press's."""
    command = held.command
    sent = _input(body, exclude={"taskId"})
    hook = webhook(body.notifyHook) if body.notifyHook else command.webhook
    common: dict[str, Any] = {
        "parent_id": command.parent_id,
        "action": command.action,
        "webhook": hook,
        "input": {**command.input, **sent},
        "dialect": command.dialect,
        "watermark": command.watermark,
        "priority": command.priority,
    }
    if command.action is JobKind.INPAINT:
        if body.maskBase64 is None:
            raise InvalidMask("maskBase64 is required for Vary (Region)", "mask")
        return Act(**common, prompt=body.prompt, mask=body.maskBase64, canvas_mask=True)
    ratio, shape, text = custom_zoom(body.prompt or "")
    return Act(**common, args=ActionArgs(zoom_ratio=ratio, shape=shape), prompt=text)


def custom_zoom(prompt: str) -> tuple[float, str | None, str]:
    """Custom Zoom's ``--zoom Z`` (1 < Z <= 2; 1 with ``--ar`` for a new shape only) and
    ``--ar W:H``; the other flags the form repeats from the parent are dropped."""
    match = _ZOOM_FLAG.search(prompt)
    if match is None or match.group(1) is None:
        raise InvalidInput(
            "Custom Zoom needs --zoom in the prompt, over 1 and at most 2 (e.g. --zoom 1.8)",
            "prompt",
        )
    try:
        ratio = float(match.group(1))
    except ValueError:
        raise InvalidInput(f"--zoom takes a number, not {match.group(1)!r}", "prompt") from None
    text = _SPEED_FLAG.sub(" ", prompt[: match.start()] + " " + prompt[match.end() :])
    _, flags = parse_prompt(text)
    if not (1 < ratio <= 2 or (ratio == 1 and flags.aspect_ratio)):
        raise InvalidInput(
            f"--zoom must be over 1 and at most 2 (or 1 with --ar for a new shape), not {ratio:g}",
            "prompt",
        )
    return ratio, flags.aspect_ratio, " ".join(text.split())
