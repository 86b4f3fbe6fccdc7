"""FastAPI dependencies every dialect shares: the service and the caller's account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from selfjourney.core.accounts import Account
from selfjourney.core.service import Service

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKeyAuth")


async def get_service(request: Request) -> Service:
    """Async: it only reads app state, so it needs no trip to the thread pool."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


async def api_key_account(
    service: ServiceDep, api_key: Annotated[str | None, Depends(_api_key_header)]
) -> Account:
    """The account of the ``X-API-Key`` header (Apiframe v2).

    Async with a short cache: a thread-pool hop per request costs more than the look-up.
    """
    recent = service.recent_account(api_key)
    return recent if recent is not None else await run_in_threadpool(service.authenticate, api_key)


ApiKeyAccount = Annotated[Account, Depends(api_key_account)]
