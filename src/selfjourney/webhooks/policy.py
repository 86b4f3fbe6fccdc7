"""How often, and how far apart, a webhook delivery is attempted."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt count plus the waits between attempts, validated once at construction.

    Usage::

        policy = RetryPolicy(max_attempts=4, backoff=(5, 30))
        policy.delay_before(2)  # 5.0   seconds after attempt 1 failed
        policy.delay_before(3)  # 30.0
        policy.delay_before(4)  # 30.0  (the last value repeats)
        policy.delay_before(5)  # None  give up: no attempt 5
    """

    #: Total attempts including the first one; 1 means "never retry".
    max_attempts: int
    #: Seconds to wait before attempt 2, 3, ...; the last value repeats.
    backoff: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ValueError(f"max_attempts must be an int, got {self.max_attempts!r}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        delays = tuple(float(delay) for delay in self.backoff)
        if any(not math.isfinite(delay) or delay < 0 for delay in delays):
            raise ValueError(f"backoff delays must be finite and >= 0, got {self.backoff!r}")
        if self.max_attempts > 1 and not delays:
            raise ValueError("backoff must name at least one delay when max_attempts > 1")
        # Frozen: normalise a list or ints to a tuple of floats once, here.
        object.__setattr__(self, "backoff", delays)

    def delay_before(self, attempt: int) -> float | None:
        """Seconds to wait before ``attempt`` (2 = first retry); None once attempts run out."""
        if attempt < 2:
            raise ValueError(f"attempt numbers start at 2 for retries, got {attempt}")
        if attempt > self.max_attempts:
            return None
        return self.backoff[min(attempt - 2, len(self.backoff) - 1)]
