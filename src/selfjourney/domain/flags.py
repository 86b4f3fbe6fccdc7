"""Midjourney prompt flags (``--ar 16:9 --seed 7 --no cars``), parsed once for every dialect.

Known flags are removed from the text the engine sees and recorded with the job; an unknown
flag (``--q 2``, ``--sref …``) stays in the prompt as typed. A malformed value is a 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any

from selfjourney.domain.errors import InvalidInput
from selfjourney.domain.sizes import parse_aspect_ratio

#: Long names of each known flag, by every spelling Midjourney accepts.
_ALIASES = {
    "ar": "aspect_ratio",
    "aspect": "aspect_ratio",
    "seed": "seed",
    "sameseed": "seed",
    "no": "negative",
    "c": "chaos",
    "chaos": "chaos",
    "s": "stylize",
    "stylize": "stylize",
    "w": "weird",
    "weird": "weird",
    "tile": "tile",
    "v": "version",
    "version": "version",
    "niji": "niji",
}
_RANGES = {"seed": (0, 4_294_967_295), "chaos": (0, 100), "stylize": (0, 1000), "weird": (0, 3000)}
#: A flag starts a word: "--name" (also the em dash phones type for "--").
_FLAG = re.compile(r"(?:(?<=\s)|^)(?:--|\u2014)([A-Za-z]+)\b")
_VERSION = re.compile(r"^\d+(?:\.\d+)?$")


@dataclass(frozen=True)
class Flags:
    """Render parameters, from prompt flags or a dialect's structured fields (None = unset)."""

    aspect_ratio: str | None = None
    seed: int | None = None
    negative: tuple[str, ...] | None = None
    chaos: int | None = None
    stylize: int | None = None
    weird: int | None = None
    tile: bool | None = None
    version: str | None = None
    niji: bool | None = None

    def over(self, base: Flags) -> Flags:
        """These flags where set, ``base`` elsewhere (structured fields win over the prompt)."""
        changes = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(base, **{k: v for k, v in changes.items() if v is not None})

    def inherited(self) -> Flags:
        """The look a follow-up keeps from its parent: all but the grid's shape and seed."""
        return replace(self, aspect_ratio=None, seed=None)

    def to_json(self) -> dict[str, Any]:
        """The set flags, JSON-safe."""
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                data[f.name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Flags:
        known = {f.name for f in fields(cls)}
        values = {name: value for name, value in data.items() if name in known}
        if values.get("negative") is not None:
            values["negative"] = tuple(str(word) for word in values["negative"])
        return cls(**values)


def parse_prompt(text: str) -> tuple[str, Flags]:
    """Split a prompt into the text the engine sees and the known flags it carries."""
    kept: list[str] = []
    values: dict[str, Any] = {}
    position = 0
    matches = list(_FLAG.finditer(text))
    for n, match in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(text)
        name = _ALIASES.get(match.group(1).lower())
        if name is None:
            continue  # unknown: stays in the text with its value
        kept.append(text[position : match.start()])
        value, rest = _take(name, match.group(1), text[match.end() : end].strip())
        if name == "niji":
            value, number = value
            if number:
                values["version"] = number
        values[name] = value
        kept.append(f" {rest} " if rest else " ")
        position = end
    kept.append(text[position:])
    clean = " ".join("".join(kept).split())
    return clean, Flags(**values)


def _take(name: str, spelled: str, segment: str) -> tuple[Any, str]:
    """The flag's value from the words after it, and the words that go back to the prompt.

    ``--no`` takes everything up to the next flag; ``--tile`` takes nothing; ``--niji`` takes
    a version number if one follows (recorded as ``version``, as midapi's ``niji6`` is);
    every other flag takes exactly one word.
    """
    if name == "negative":
        words = tuple(w.strip() for w in segment.split(",") if w.strip())
        if not words:
            raise _bad(spelled, segment, "one or more words, e.g. --no cars, trees")
        return words, ""
    if name == "tile":
        return True, segment
    first, _, rest = segment.partition(" ")
    if name == "niji":
        return ((True, first), rest) if _VERSION.match(first) else ((True, None), segment)
    return _one_word(name, spelled, first), rest


def _one_word(name: str, spelled: str, word: str) -> Any:
    if name == "aspect_ratio":
        if not word:
            raise _bad(spelled, word, "a ratio, e.g. --ar 16:9")
        try:
            parse_aspect_ratio(word)
        except InvalidInput as exc:
            raise InvalidInput(f"--{spelled}: {exc.message}", "prompt") from None
        return word
    if name == "version":
        if not _VERSION.match(word):
            raise _bad(spelled, word, "a version number, e.g. --v 7")
        return word
    return _whole_number(name, spelled, word)


def _whole_number(name: str, spelled: str, raw: str) -> int:
    low, high = _RANGES[name]
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _bad(spelled, raw, f"a whole number from {low} to {high}")
    return int(raw)


def _bad(spelled: str, raw: str, wanted: str) -> InvalidInput:
    shown = raw if raw else "nothing"
    return InvalidInput(f"--{spelled} takes {wanted}; got {shown!r}", "prompt")
