"""Engines that misbehave on purpose, passed in through ``build_embedded(engine=...)``."""

from __future__ import annotations

import threading

from selfjourney.engines.base import Picture, ProgressFn, Retry, Spec
from selfjourney.engines.procedural import ProceduralEngine


class FailingEngine(ProceduralEngine):
    """Every grid render raises, like a GPU running out of memory."""

    def __init__(self, error: BaseException | None = None) -> None:
        super().__init__()
        self.error = error or RuntimeError("CUDA out of memory")

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        progress(0.3)
        raise self.error


class FlakyEngine(ProceduralEngine):
    """Asks for a retry the first ``failures`` times, then renders normally."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0
        self._lock = threading.Lock()

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        with self._lock:
            self.calls += 1
            if self.calls <= self.failures:
                raise Retry("warming up", defer=0)
        return super().generate(spec, count, progress)


class SlowEngine(ProceduralEngine):
    """Reports progress in steps while it renders, at a pace a test can see."""

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        small = Spec(spec.prompt, spec.seed, spec.width, spec.height)
        gate = threading.Event()
        for step in range(1, 6):
            progress(step / 6)
            gate.wait(0.15)  # pretend-GPU time between progress reports
        return super().generate(small, count, progress)


class PacedEngine(ProceduralEngine):
    """Renders small pictures in ``seconds`` of pretend-GPU time, in four progress steps."""

    def __init__(self, seconds: float = 0.2) -> None:
        super().__init__()
        self.seconds = seconds

    def generate(self, spec: Spec, count: int, progress: ProgressFn) -> list[Picture]:
        gate = threading.Event()
        for step in range(1, 5):
            progress(step / 5)
            gate.wait(self.seconds / 4)
        return super().generate(Spec(spec.prompt, spec.seed, 64, 64), count, progress)
