"""FastAPI dependencies every dialect shares: the service and the caller's account.

The service is the only thing a dialect calls; it is put in the app's state by ``create_app``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from selfjourney.domain.accounts import Account
from selfjourney.domain.errors import MissingKey
from selfjourney.service import Service

P = ParamSpec("P")
T = TypeVar("T")

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKeyAuth")


async def get_service(request: Request) -> Service:
    """Async: it only reads app state, so it needs no trip to the thread pool."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


@dataclass(frozen=True)
class EventStreams:
    """What an app's event streams share: the seconds between keep-alive comments, and the
    signal that the server is shutting down (open streams then end, so they cannot hold up
    the exit). Made by ``create_app``."""

    keepalive: float
    closing: asyncio.Event = field(default_factory=asyncio.Event)


async def get_streams(request: Request) -> EventStreams:
    """The app's event-stream settings, put in its state by ``create_app``."""
    streams: EventStreams = request.app.state.streams
    return streams


StreamsDep = Annotated[EventStreams, Depends(get_streams)]


async def read(service: Service, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a read-only core call: inline when the store's reads are local, else in a thread."""
    if service.reads_are_local:
        return call(*args, **kwargs)
    return await run_in_threadpool(call, *args, **kwargs)


async def account_of(service: Service, key: str | None) -> Account:
    """The key's account, the request counted against its rate limit: every dialect's one
    way in. On the event loop when that needs no network, else on a worker thread."""
    recent = service.recent_account(key)
    if recent is not None:
        return recent
    if service.auth_is_local:
        return service.authenticate(key)
    return await run_in_threadpool(service.authenticate, key)


#: Told to a v2 caller that sent its key the way the other dialects read it.
V2_KEY_HINT = (
    "Apiframe v2 routes (/v2/...) read the key from the X-API-Key header; "
    "Authorization: Bearer is for the midapi and Apiframe v1 routes"
)


async def api_key_account(
    request: Request,
    service: ServiceDep,
    api_key: Annotated[str | None, Depends(_api_key_header)],
) -> Account:
    """The account of the ``X-API-Key`` header (Apiframe v2).

    Async with a short cache: a thread-pool hop per request costs more than the look-up.
    """
    if api_key is None and "authorization" in request.headers:
        raise MissingKey(V2_KEY_HINT)
    return await account_of(service, api_key)


ApiKeyAccount = Annotated[Account, Depends(api_key_account)]


_authorization_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    scheme_name="Authorization",
    description="`Bearer <key>` (midapi, the Apiframe SDK) or the bare key (Apiframe v1 docs)",
)


def _authorization_key(header: str | None) -> str | None:
    """The key in ``Authorization``: ``Bearer <key>`` or the bare key (Apiframe v1 docs)."""
    header = (header or "").strip()
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return header or None


async def authorization_account(
    service: ServiceDep, header: Annotated[str | None, Depends(_authorization_header)]
) -> Account:
    """The account of the ``Authorization`` header (midapi and Apiframe v1)."""
    return await account_of(service, _authorization_key(header))


AuthorizationAccount = Annotated[Account, Depends(authorization_account)]


_mj_secret_header = APIKeyHeader(
    name="mj-api-secret",
    auto_error=False,
    scheme_name="MjApiSecret",
    description="The key (midjourney-proxy's own header, sent by new-api and web clients)",
)


async def mj_secret_account(
    service: ServiceDep,
    secret: Annotated[str | None, Depends(_mj_secret_header)],
    header: Annotated[str | None, Depends(_authorization_header)],
) -> Account:
    """The account of ``mj-api-secret`` or, when that is empty, of ``Authorization``
    (``Bearer <key>`` or the bare key): midjourney-proxy's own header wins."""
    return await account_of(service, (secret or "").strip() or _authorization_key(header))


MjSecretAccount = Annotated[Account, Depends(mj_secret_account)]
