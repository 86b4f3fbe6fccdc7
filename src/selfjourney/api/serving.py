"""Running the app under uvicorn, as ``selfjourney serve`` does."""

from __future__ import annotations

import socket

import uvicorn
from fastapi import FastAPI

from selfjourney.api.app import close_streams


class Server(uvicorn.Server):
    """uvicorn's server, ending the app's event streams as soon as it starts shutting down.

    uvicorn lets every open response finish before it exits, and the event stream of a job
    still queued (a playground tab left open) would otherwise hold the exit for ever.
    """

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        close_streams(self._app)
        await super().shutdown(sockets)


def serve(app: FastAPI, *, host: str, port: int, log_level: str) -> None:
    """Serve ``app`` until SIGINT or SIGTERM; uvicorn's own lines go to the root logger, in
    the format ``observe.logs.configure_logging`` set."""
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, log_config=None)
    Server(config, app).run()
