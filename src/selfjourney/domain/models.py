"""Which named model renders a job: ``--v 7`` → ``v7``, ``--niji 6`` → ``niji6``, else the default.

A server has a table of named models (``Settings.models``); each answers to its own name and to
the aliases it declares (``"niji"`` for a bare ``--niji``, ``"v6.1"``...). The alias ``"*"``
answers to any version no other model claims: the single model of a server with no table has
it, so every ``--v``/``--niji`` keeps working there. Anything else is ``UnknownModel`` (a 400).
That single model is never named on a job (None, as on jobs from before models existed), so a
server without a table answers exactly as it did.

Usage::

    table = ModelTable.of({"v7": (), "niji6": ("niji",)}, default="v7")
    table.choose(Flags(niji=True, version="6"))   # "niji6"
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import NoReturn

from selfjourney.domain.errors import UnknownModel
from selfjourney.domain.flags import Flags

#: The alias that answers to every version no other model names.
ANY = "*"


def asked_for(flags: Flags) -> str | None:
    """The model name the render flags ask for: ``niji``/``niji6``/``v7``; None = the default."""
    if flags.niji:
        return f"niji{flags.version or ''}"
    if flags.version:
        return f"v{flags.version}"
    return None


@dataclass(frozen=True)
class ModelTable:
    """The configured model names, what each answers to, and the default."""

    #: Model names in the order they were configured.
    names: tuple[str, ...]
    default: str
    #: Every name and alias (but ``*``) to the model it picks.
    answers: Mapping[str, str]
    #: The model that answers to any other version, if one declared ``*``.
    fallback: str | None = None
    #: The one model of a server with no table: jobs name no model (None).
    implicit: bool = False

    @classmethod
    def of(cls, aliases: Mapping[str, Iterable[str]], default: str) -> ModelTable:
        """A table from each model's aliases; raises ValueError on a clash or a bad default."""
        answers: dict[str, str] = {name: name for name in aliases}
        fallback = None
        for name, names in aliases.items():
            for alias in names:
                if alias == ANY:
                    fallback = name if fallback in (None, name) else _clash(alias, fallback, name)
                elif answers.setdefault(alias, name) != name:
                    _clash(alias, answers[alias], name)
        if default not in aliases:
            raise ValueError(f"default_model {default!r} is not in the models table")
        return cls(tuple(aliases), default, answers, fallback)

    @classmethod
    def single(cls, name: str) -> ModelTable:
        """One model that renders everything (a server with no table)."""
        return replace(cls.of({name: (ANY,)}, default=name), implicit=True)

    def choose(self, flags: Flags, named: str | None = None, field: str = "prompt") -> str | None:
        """The model for a new job: ``named`` if it is a configured name or alias (a dialect's
        model field), else what ``--v``/``--niji`` ask for (``field`` names where they came
        from in an error), else the default; None on a server with no table."""
        if self.implicit:
            return None
        if named is not None and named in self.answers:
            return self.answers[named]
        wanted = asked_for(flags)
        if wanted is None:
            return self.default
        chosen = self.answers.get(wanted, self.fallback)
        if chosen is None:
            raise UnknownModel(wanted, self.names, field)
        return chosen


def _clash(alias: str, first: str, second: str) -> NoReturn:
    raise ValueError(f"models {first!r} and {second!r} both answer to {alias!r}")
