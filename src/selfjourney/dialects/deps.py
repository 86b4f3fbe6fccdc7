"""FastAPI dependencies every dialect shares: the service and the caller's account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from selfjourney.core.accounts import Account
from selfjourney.core.service import Service

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKeyAuth")


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def api_key_account(
    service: ServiceDep, api_key: Annotated[str | None, Depends(_api_key_header)]
) -> Account:
    """The account of the ``X-API-Key`` header (Apiframe v2)."""
    return service.authenticate(api_key)


ApiKeyAccount = Annotated[Account, Depends(api_key_account)]
