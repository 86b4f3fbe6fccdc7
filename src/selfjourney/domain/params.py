"""Typed job parameters: the job row's ``params`` JSON, read and written only here.

A job's parameters are what it asked for, fixed when it was accepted: the render flags, the
reference images, the parent picture an action starts from, the action's own arguments, and
the delivery options (watermark, queue priority). Each part has one ``to_json``/``from_json``.

Usage::

    params = JobParams(flags=Flags(aspect_ratio="16:9"), priority=2)
    assert JobParams.from_json(params.to_json()) == params
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from selfjourney.domain.errors import InvalidInput
from selfjourney.domain.flags import Flags
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.sizes import Direction

#: Images in a grid.
GRID_COUNT = 4
#: Where the images callers send inline are stored: ``uploads/{job_id}-{name}.png``.
UPLOADS = "uploads/"

ReferenceMode = Literal["image", "style", "omni", "blend"]
REFERENCE_MODES: tuple[ReferenceMode, ...] = ("image", "style", "omni", "blend")


class GridIndex(int):
    """One image of a 2x2 grid: 1 top left, 2 top right, 3 bottom left, 4 bottom right.

    Dialects turn their own numbering (0-3, "U2", ...) into this at the edge; past it an index
    is always 1-4, and never a boolean.
    """

    def __new__(cls, value: int) -> GridIndex:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= GRID_COUNT:
            raise InvalidInput(f"index must be a whole number from 1 to 4, not {value!r}", "index")
        return super().__new__(cls, value)

    @property
    def offset(self) -> int:
        """0-3: the image's place in the grid's list of images."""
        return int(self) - 1


@dataclass(frozen=True)
class References:
    """Images that guide a render: "image" (img2img), "style" or "omni" reference, or "blend"
    (Midjourney's /blend: 2-5 images mixed into one picture, no prompt needed).

    ``urls`` are fetched by the worker; ``keys`` are images the caller sent inline, stored
    when the job was accepted. URLs come first, then keys.
    """

    urls: tuple[str, ...] = ()
    mode: ReferenceMode = "image"
    weight: float = 0.5
    keys: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"urls": list(self.urls), "mode": self.mode, "weight": self.weight}
        if self.keys:
            data["keys"] = list(self.keys)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> References:
        mode = str(data.get("mode", "image"))
        if mode not in REFERENCE_MODES:
            raise ValueError(f"unknown reference mode {mode!r}")
        return cls(
            urls=tuple(str(url) for url in data.get("urls") or ()),
            mode=mode,
            weight=float(data.get("weight", 0.5)),
            keys=tuple(str(key) for key in data.get("keys") or ()),
        )


@dataclass(frozen=True)
class Source:
    """The parent picture an action starts from, fixed when the action is accepted.

    ``recipe`` is the engine's own JSON for that picture (opaque here), so a pan or a zoom
    can continue the exact picture.
    """

    key: str
    width: int
    height: int
    recipe: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "width": self.width, "height": self.height, "recipe": self.recipe}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Source:
        return cls(
            key=str(data["key"]),
            width=int(data["width"]),
            height=int(data["height"]),
            recipe=dict(data.get("recipe") or {}),
        )


@dataclass(frozen=True)
class ActionArgs:
    """What a button asked for; each field only for the actions named beside it."""

    #: upsample, variation; outpaint, pan and upscale of a grid image in one step
    index: GridIndex | None = None
    #: outpaint: show this much more, in (1, 2] (1 only with ``shape``)
    zoom_ratio: float | None = None
    #: outpaint: a new shape ``W:H`` (a custom zoom)
    shape: str | None = None
    #: pan
    direction: Direction | None = None
    #: upscale: 2 or 4
    factor: int | None = None
    #: upscale: "subtle" or "creative"
    mode: str | None = None
    #: variation: "subtle" or "strong" (None: the ordinary V1-V4)
    strength: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The set fields only."""
        values = {
            "index": None if self.index is None else int(self.index),
            "zoom_ratio": self.zoom_ratio,
            "shape": self.shape,
            "direction": None if self.direction is None else self.direction.value,
            "factor": self.factor,
            "mode": self.mode,
            "strength": self.strength,
        }
        return {name: value for name, value in values.items() if value is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ActionArgs:
        return cls(
            index=None if data.get("index") is None else GridIndex(int(data["index"])),
            zoom_ratio=None if data.get("zoom_ratio") is None else float(data["zoom_ratio"]),
            shape=_text(data.get("shape")),
            direction=None if data.get("direction") is None else Direction(data["direction"]),
            factor=None if data.get("factor") is None else int(data["factor"]),
            mode=_text(data.get("mode")),
            strength=_text(data.get("strength")),
        )


@dataclass(frozen=True)
class JobParams:
    """Everything a job asked for besides its prompt and seed (the row's ``params``)."""

    #: Render flags: from the prompt (``--ar``, ``--chaos``...) or the dialect's fields.
    flags: Flags = field(default_factory=Flags)
    #: The button's arguments (empty for a new grid).
    action: ActionArgs = field(default_factory=ActionArgs)
    #: The parent picture an action starts from.
    source: Source | None = None
    #: Images guiding a new grid.
    references: References | None = None
    #: Text drawn on every delivered image (midapi ``waterMark``).
    watermark: str | None = None
    #: Queue priority: higher runs first (midapi's turbo > fast > relaxed).
    priority: int = 0
    #: An upscale of a caller's image: its URL (the job has no parent).
    image_url: str | None = None
    #: A reroll: the kind of job it repeats (and renders as).
    repeats: JobKind | None = None

    def uploads(self) -> list[str]:
        """The storage keys of images the caller sent with the job (kept as long as its own)."""
        keys = list(self.references.keys) if self.references is not None else []
        if self.source is not None and self.source.key.startswith(UPLOADS):
            keys.append(self.source.key)
        return keys

    def to_json(self) -> dict[str, Any]:
        """Compact JSON: parts that are unset are left out."""
        data: dict[str, Any] = {"flags": self.flags.to_json()}
        action = self.action.to_json()
        if action:
            data["action"] = action
        if self.source is not None:
            data["source"] = self.source.to_json()
        if self.references is not None:
            data["references"] = self.references.to_json()
        extras = {
            "watermark": self.watermark,
            "priority": self.priority or None,
            "image_url": self.image_url,
            "repeats": None if self.repeats is None else self.repeats.value,
        }
        data.update({name: value for name, value in extras.items() if value is not None})
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobParams:
        return cls(
            flags=Flags.from_json(data.get("flags") or {}),
            action=ActionArgs.from_json(data.get("action") or {}),
            source=Source.from_json(data["source"]) if data.get("source") else None,
            references=References.from_json(data["references"]) if data.get("references") else None,
            watermark=_text(data.get("watermark")),
            priority=int(data.get("priority") or 0),
            image_url=_text(data.get("image_url")),
            repeats=None if data.get("repeats") is None else JobKind(data["repeats"]),
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
