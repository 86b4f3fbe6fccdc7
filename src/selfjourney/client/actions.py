"""Every button of a finished job as the one request that presses it.

Apiframe v2's action route does upsample, variation, inpaint, zoom out by 1.5 or 2, and pan;
the rest is on Apiframe v1 and its Pro routes, which take the same key and see the same jobs:
reroll, upscale (2x, 4x, subtle, creative), vary subtle/strong, zoom out by any ratio in (1, 2].

Usage::

    request = action_request(job_id, "variation", "3", strength="strong")
    # Submission(path="/pro/midjourney/vary", body={...}, wire="v1")
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from selfjourney.client.errors import BadAction

#: Wire formats the client speaks: each has its key header and the name of the new job's id.
Wire = Literal["v2", "v1"]
Strength = Literal["subtle", "strong"]
V2_ACTION = "/v2/images/midjourney/action"
DIRECTIONS = ("up", "down", "left", "right")
UPSCALES = {"2x": "/upscale-highres", "4x": "/upscale-highres"}
UPSCALES |= {"subtle": "/upscale-alt", "creative": "/upscale-alt"}
MAX_MASK_BYTES = 8_000_000  # the server takes 12 MB of base64, about 9 MB of file


@dataclass(frozen=True)
class Extras:
    """The options of an action besides its argument."""

    strength: Strength | None = None
    mask: bytes | None = None
    prompt: str | None = None


@dataclass(frozen=True)
class Submission:
    """One POST: the path, its JSON body, and which wire format answers it."""

    path: str
    body: dict[str, Any] = field(default_factory=dict)
    wire: Wire = "v2"


def action_request(
    job_id: str,
    action: str,
    arg: str | None = None,
    *,
    strength: Strength | None = None,
    mask: bytes | None = None,
    prompt: str | None = None,
) -> Submission:
    """The request for ``action`` on job ``job_id``; ``arg`` is the CLI's ``[ARG]``."""
    build = _BUILDERS.get(action)
    if build is None:
        raise BadAction(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
    extras = Extras(strength, mask, prompt)
    _refuse_extras(action, extras)
    return build(job_id, arg, extras)


def read_mask(path: Path) -> bytes:
    """A mask file's bytes (PNG, white = repaint); the server checks its size and format."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadAction(f"cannot read the mask {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_MASK_BYTES:
        raise BadAction(f"the mask {path} is over {MAX_MASK_BYTES // 1_000_000} MB")
    return data


def _refuse_extras(action: str, extras: Extras) -> None:
    allowed = _OPTIONS[action]
    given = {
        "--strong/--subtle": extras.strength,
        "--mask": extras.mask,
        "--prompt": extras.prompt,
    }
    for option, value in given.items():
        if value is not None and option not in allowed:
            raise BadAction(f"{option} does not apply to {action}")


def _index(action: str, arg: str | None) -> int:
    if arg is None or arg.strip() not in ("1", "2", "3", "4"):
        raise BadAction(f"{action} takes an image number 1-4, e.g. `{action} 2`")
    return int(arg)


def _no_arg(action: str, arg: str | None) -> None:
    if arg is not None:
        raise BadAction(f"{action} takes no argument (got {arg!r})")


def _upsample(job_id: str, arg: str | None, _extras: Extras) -> Submission:
    index = _index("upsample", arg)
    return Submission(V2_ACTION, {"parentJobId": job_id, "action": "upsample", "index": index})


def _variation(job_id: str, arg: str | None, extras: Extras) -> Submission:
    index = _index("variation", arg)
    if extras.strength is None:
        body = {"parentJobId": job_id, "action": "variation", "index": index}
        return Submission(V2_ACTION, body)
    body = {"parent_task_id": job_id, "index": index, "type": extras.strength}
    return Submission("/pro/midjourney/vary", body, "v1")


def _reroll(job_id: str, arg: str | None, extras: Extras) -> Submission:
    _no_arg("reroll", arg)
    body: dict[str, Any] = {"parent_task_id": job_id}
    if extras.prompt is not None:
        body["prompt"] = extras.prompt
    return Submission("/reroll", body, "v1")


def _pan(job_id: str, arg: str | None, _extras: Extras) -> Submission:
    direction = (arg or "").strip().lower()
    if direction not in DIRECTIONS:
        raise BadAction(f"pan takes a direction: {', '.join(DIRECTIONS)}, e.g. `pan left`")
    return Submission(V2_ACTION, {"parentJobId": job_id, "action": "pan", "direction": direction})


def _zoom(job_id: str, arg: str | None, _extras: Extras) -> Submission:
    try:
        ratio = float(arg or "")
    except ValueError:
        ratio = math.nan
    if not math.isfinite(ratio):
        raise BadAction("zoom takes a zoom-out ratio in (1, 2], e.g. `zoom 2` or `zoom 1.5`")
    if ratio in (1.5, 2.0):
        number = 2 if ratio == 2.0 else 1.5
        body = {"parentJobId": job_id, "action": "outpaint", "zoomRatio": number}
        return Submission(V2_ACTION, body)
    return Submission("/outpaint", {"parent_task_id": job_id, "zoom_ratio": ratio}, "v1")


def _inpaint(job_id: str, arg: str | None, extras: Extras) -> Submission:
    _no_arg("inpaint", arg)
    if extras.mask is None:
        raise BadAction("inpaint needs --mask FILE (a PNG the size of the image, white = repaint)")
    mask = base64.b64encode(extras.mask).decode("ascii")
    body = {"parentJobId": job_id, "action": "inpaint", "mask": mask}
    if extras.prompt is not None:
        body["prompt"] = extras.prompt
    return Submission(V2_ACTION, body)


def _upscale(job_id: str, arg: str | None, _extras: Extras) -> Submission:
    kind = (arg or "").strip().lower()
    if kind not in UPSCALES:
        raise BadAction(f"upscale takes one of {', '.join(UPSCALES)}, e.g. `upscale 2x`")
    return Submission(UPSCALES[kind], {"parent_task_id": job_id, "type": kind}, "v1")


_BUILDERS: dict[str, Callable[[str, str | None, Extras], Submission]] = {
    "upsample": _upsample,
    "variation": _variation,
    "reroll": _reroll,
    "pan": _pan,
    "zoom": _zoom,
    "inpaint": _inpaint,
    "upscale": _upscale,
}
_OPTIONS: dict[str, frozenset[str]] = {
    "upsample": frozenset(),
    "variation": frozenset({"--strong/--subtle"}),
    "reroll": frozenset({"--prompt"}),
    "pan": frozenset(),
    "zoom": frozenset(),
    "inpaint": frozenset({"--mask", "--prompt"}),
    "upscale": frozenset(),
}
#: The actions, in the order the help lists them.
ACTIONS = tuple(_BUILDERS)
