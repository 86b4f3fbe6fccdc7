"""One webhook delivery attempt, judged: delivered, worth retrying, or not."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from selfjourney.domain.errors import UnsafeUrl

log = logging.getLogger(__name__)

#: Bytes of a failed response's body kept for the error text; the rest is never read.
BODY_CAP = 256


@dataclass(frozen=True)
class Outcome:
    """What one POST achieved; the dispatcher logs it and decides on a retry from it."""

    #: The receiver answered 2xx.
    delivered: bool
    #: A later attempt may succeed (429, 5xx, timeout, network error).
    retryable: bool
    #: The receiver's HTTP status, None if no response arrived.
    status_code: int | None
    #: Why the attempt failed, for people; None when delivered.
    error: str | None
    duration_ms: int


def post(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float | None = None,
) -> Outcome:
    """POST ``body`` as JSON once; never raises, it reports what happened instead.

    Use a client from ``guard.guarded_client`` so that address checks and timeouts apply;
    ``timeout`` overrides the client's for this request (a dialect's own rule).
    """
    started = time.monotonic()
    try:
        status, snippet = _exchange(client, url, body, headers, timeout)
    except UnsafeUrl as exc:
        return _failed(started, f"refused: webhookUrl {exc.message}", retryable=False)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return _failed(started, f"refused: invalid URL ({exc})", retryable=False)
    except httpx.TimeoutException as exc:
        return _failed(started, f"receiver timed out ({type(exc).__name__})", retryable=True)
    except httpx.ConnectError as exc:
        return _failed(started, f"could not connect to receiver: {_reason(exc)}", retryable=True)
    except httpx.TransportError as exc:
        return _failed(started, f"connection to receiver failed: {_reason(exc)}", retryable=True)
    except (UnicodeError, ValueError) as exc:  # a URL no client can send to (bad IDNA host)
        reason = f"refused: the host of {url} cannot be encoded ({_reason(exc)})"
        return _failed(started, reason, retryable=False)
    except Exception as exc:  # a bug must still settle the delivery, never leave it pending
        log.exception("webhook POST to %s crashed", url)
        return _failed(started, f"could not send: {type(exc).__name__}: {exc}", retryable=False)
    return _judge(status, snippet, started)


def _exchange(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float | None,
) -> tuple[int, str]:
    sent = httpx.Headers({"content-type": "application/json"})
    sent.update(headers)
    limit = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
    with client.stream("POST", url, content=body, headers=sent, timeout=limit) as response:
        if response.is_success:
            return response.status_code, ""
        return response.status_code, _snippet(response)


def _snippet(response: httpx.Response) -> str:
    """The start of an error body, so a receiver's complaint shows up in the delivery log."""
    data = b""
    try:
        for chunk in response.iter_raw():
            data += chunk
            if len(data) >= BODY_CAP:
                break
    except httpx.HTTPError:
        pass  # the status already tells the story; a half-read body is still useful
    text = data[:BODY_CAP].decode("utf-8", errors="replace")
    return " ".join(text.split())


def _judge(status: int, snippet: str, started: float) -> Outcome:
    if 200 <= status < 300:
        return Outcome(True, False, status, None, _elapsed_ms(started))
    if 300 <= status < 400:
        error = f"receiver answered {status}; redirects are not followed"
    else:
        error = f"receiver answered {status}" + (f": {snippet}" if snippet else "")
    retryable = status == 429 or status >= 500
    return Outcome(False, retryable, status, error, _elapsed_ms(started))


def _failed(started: float, error: str, retryable: bool) -> Outcome:
    return Outcome(False, retryable, None, error, _elapsed_ms(started))


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
