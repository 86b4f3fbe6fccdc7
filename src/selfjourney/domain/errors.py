"""Domain errors. Dialects map each class to their own status and envelope, in one table each.

SelfjourneyError
├── InvalidInput            the request is well-formed but its values are unusable
│   ├── InvalidAspectRatio
│   ├── InvalidImage        a caller's image that cannot be used (format, size, bytes)
│   │   └── InvalidMask
│   ├── UnsafeUrl           an outbound URL (webhook, image) that policy refuses
│   └── UnknownModel        --v / --niji (or a dialect's model field) names no configured model
├── AuthError
│   ├── MissingKey
│   ├── InvalidKey
│   └── InactiveKey
├── NotFound                no such job, or another key's
├── InvalidParent           the parent is the wrong kind of job for this action
├── ActionUnavailable       the parent cannot take this action now (status, images gone)
├── IdempotencyConflict     an Idempotency-Key replayed with a different body
├── InsufficientCredits
├── RateLimited             the key sent more requests a minute than the server allows
├── Unsupported             a real feature of a wire format that this server cannot do
└── InvalidTransition       a job status change the state machine forbids (a bug, not input)
"""

from __future__ import annotations


class SelfjourneyError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SelfjourneyError):
    """Well-formed request whose values cannot be used; ``field`` names the JSON path."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class InvalidAspectRatio(InvalidInput):
    """An aspect ratio outside 1:3..3:1 or with a zero side."""


class InvalidImage(InvalidInput):
    """A caller's image that cannot be used: not PNG/JPEG/WebP, too large, undecodable."""


class InvalidMask(InvalidImage):
    """An inpaint mask that is not a decodable image of the parent's size."""


class UnsafeUrl(InvalidInput):
    """An outbound URL that the SSRF policy refuses (scheme, private address...)."""


class UnknownModel(InvalidInput):
    """A model asked for (``--v 6``, ``--niji``, midapi ``version``) that this server has not
    configured; ``model`` is the name asked for, ``known`` the names it has."""

    def __init__(self, model: str, known: tuple[str, ...], field: str = "prompt") -> None:
        names = ", ".join(known)
        super().__init__(f"unknown model {model!r}: this server renders {names}", field)
        self.model = model
        self.known = known


class AuthError(SelfjourneyError):
    """The caller could not be identified as an active key."""


class MissingKey(AuthError):
    def __init__(self, hint: str | None = None) -> None:
        super().__init__("API key is required" + (f": {hint}" if hint else ""))


class InvalidKey(AuthError):
    def __init__(self) -> None:
        super().__init__("Invalid API key")


class InactiveKey(AuthError):
    def __init__(self) -> None:
        super().__init__("API key is inactive")


class NotFound(SelfjourneyError):
    """No such job for this key (another key's job is reported the same way)."""

    def __init__(self, job_id: str, what: str = "Job") -> None:
        super().__init__(f"{what} not found")
        self.job_id = job_id


class InvalidParent(SelfjourneyError):
    """The parent job is the wrong kind for the action (e.g. upsample of an upsample)."""

    def __init__(self, message: str, job_id: str, action: str) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.action = action


class ActionUnavailable(SelfjourneyError):
    """The parent cannot take the action now: not COMPLETED, or its images are gone."""

    def __init__(self, message: str, job_id: str, action: str) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.action = action


class IdempotencyConflict(SelfjourneyError):
    def __init__(self, key: str) -> None:
        super().__init__("Idempotency-Key was already used with a different request body")
        self.key = key


class InsufficientCredits(SelfjourneyError):
    def __init__(self, required: int, available: int) -> None:
        super().__init__("Insufficient credits")
        self.required = required
        self.available = available


class RateLimited(SelfjourneyError):
    """Too many requests from one key; ``retry_after`` is the whole seconds until one passes."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            f"Rate limit exceeded: {limit} requests a minute per API key; retry in {retry_after} s"
        )
        self.limit = limit
        self.retry_after = retry_after


class Unsupported(SelfjourneyError):
    """A real feature of the wire format that this server cannot do (yet), said plainly."""

    def __init__(self, message: str, feature: str) -> None:
        super().__init__(message)
        self.feature = feature


class InvalidTransition(SelfjourneyError):
    """A status change the job state machine forbids."""

    def __init__(self, job_id: str, from_status: str, to_status: str) -> None:
        super().__init__(f"job {job_id}: cannot go from {from_status} to {to_status}")
        self.job_id = job_id
        self.from_status = from_status
        self.to_status = to_status
