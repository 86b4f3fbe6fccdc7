"""One engine per model a worker serves, each made once, on first use or by ``load()``.

A procedural engine is cheap; a diffusers pipeline is gigabytes, so each is built once per
process and only for the models this worker serves (``selfjourney worker --models niji6``).

Usage::

    engines = ModelEngines({"v7": make_v7, "niji6": make_niji}, default="v7", serves=["niji6"])
    engines.for_model("niji6").generate(...)
    engines.claimable()   # ("niji6",): the claim leaves v7's jobs queued
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping

from selfjourney.engines.base import Engine


class UnservedModel(Exception):
    """A job's model is not one this worker renders (no longer configured, or another's)."""


class ModelEngines:
    """The engines of the models this worker serves, by model name; None is ``default``."""

    def __init__(
        self,
        makers: Mapping[str, Callable[[], Engine]],
        *,
        default: str,
        serves: Collection[str] | None = None,
    ) -> None:
        unknown = sorted(set(serves or ()) - set(makers))
        if unknown:
            raise ValueError(f"no such models: {unknown} (configured: {sorted(makers)})")
        self.default = default
        #: The models this worker renders, in the table's order.
        self.served = tuple(name for name in makers if serves is None or name in serves)
        self._restricted = serves is not None
        self._makers = dict(makers)
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def for_model(self, model: str | None) -> Engine:
        """The engine of ``model`` (None: the default), made now if it is the first job."""
        name = model or self.default
        if name not in self.served:
            raise UnservedModel(f"model {name!r} is not rendered here (serving {self.served})")
        with self._lock:  # two first jobs at once must not load a pipeline twice
            if name not in self._engines:
                self._engines[name] = self._makers[name]()
            return self._engines[name]

    def load(self) -> None:
        """Make and load every served model's engine now (a bad one fails at start)."""
        for name in self.served:
            self.for_model(name).load()

    def claimable(self) -> tuple[str | None, ...] | None:
        """What a claim may take: None (any job) unless this worker serves only some models;
        then those names, and None (jobs naming no model) if it serves the default."""
        if not self._restricted:
            return None
        unnamed: tuple[None, ...] = (None,) if self.default in self.served else ()
        return (*self.served, *unnamed)

    def describe(self) -> str:
        """The served models and their engines (made now), for the start-up banner."""
        return "; ".join(f"{name}: {self.for_model(name).describe()}" for name in self.served)
