"""The API side of a process: the service, and the FastAPI app that serves every dialect.

It needs no engine: ``create_app`` builds the app from a service and the dialect list, and
``build_service`` puts the service over a store, a storage and a queue.
"""

from __future__ import annotations

from selfjourney.api.app import create_app
from selfjourney.api.side import build_service

__all__ = ["build_service", "create_app"]
