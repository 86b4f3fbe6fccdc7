"""A Server-Sent Events reader for tests: frames as the spec parses them, comments included."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Frame:
    """An event (``event`` and its ``data`` parsed as JSON) or a comment line."""

    event: str | None = None
    data: Any = None
    comment: str | None = None


def frames(lines: Iterable[str]) -> Iterator[Frame]:
    """Frames from a stream's lines (``httpx.Response.iter_lines()``), in order."""
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if line == "":
            if event is not None or data:
                yield Frame(event=event or "message", data=json.loads("\n".join(data)))
            event, data = None, []
        elif line.startswith(":"):
            yield Frame(comment=line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
