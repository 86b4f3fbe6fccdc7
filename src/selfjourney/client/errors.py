"""What can go wrong on the client side, each with the sentence a person should read.

ClientError
├── NoKey           no key in the flags, the environment or the data dir
├── BadAction       an ``act`` that cannot be sent (unknown action, missing argument)
├── Unreachable     nothing answers at the server's URL
├── ServerError     the server refused the request: its status and its own message
└── JobFailed       the job ran and failed: its id and the server's reason
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base of every error the client raises on purpose; ``str()`` is the message to show."""


class NoKey(ClientError):
    """No API key was given and no development key file was found."""


class BadAction(ClientError):
    """An action, or its argument, that the client cannot turn into a request."""


class Unreachable(ClientError):
    """Nothing answers at the server's URL (refused, unresolvable, timed out)."""

    def __init__(self, url: str, reason: str) -> None:
        hint = " (is it running? `make serve` starts one; or pass --server URL)"
        super().__init__(f"cannot reach the selfjourney server at {url}: {reason}{hint}")
        self.url = url


class ServerError(ClientError):
    """An HTTP error answer, with the server's own message from its error envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status
        self.message = message


class JobFailed(ClientError):
    """The job reached FAILED; the server refunded it."""

    def __init__(self, job_id: str, reason: str | None) -> None:
        super().__init__(f"job {job_id} failed: {reason or 'no reason given'}")
        self.job_id = job_id


def server_message(body: Any, fallback: str) -> str:
    """The message of a v2 (``error``, ``details``) or v1 (``message``) error body."""
    if not isinstance(body, dict):
        return fallback
    if isinstance(body.get("error"), str):
        message: str = body["error"]
        details = body.get("details")
        if isinstance(details, dict) and details:
            parts = [f"{field}: {_joined(msgs)}" for field, msgs in details.items()]
            message = f"{message}: {', '.join(parts)}"
        elif "creditsRequired" in body:
            needed, left = body.get("creditsRequired"), body.get("creditsAvailable")
            message = f"{message}: this costs {needed}, {left} left"
        return message
    if isinstance(body.get("message"), str) and body["message"]:
        return str(body["message"])
    if isinstance(body.get("detail"), str):
        return str(body["detail"])
    return fallback


def _joined(messages: Any) -> str:
    return "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
