"""Serving apps for the benchmarks: uvicorn in a spawned child process on a free loopback port.

A child process gives the server its own GIL, so the client's work does not compete with it.
"""

from __future__ import annotations

import multiprocessing
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

STARTUP_TIMEOUT = 60.0
CREDITS = 1_000_000


def listen() -> tuple[socket.socket, int]:
    """A listening socket on a free loopback port.

    IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when the listening
    socket says TCP. Without it uvicorn's two writes per response (head, body) meet the
    client's delayed ACK and every request takes ~40 ms (Nagle).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock, int(sock.getsockname()[1])


def serve(app: FastAPI, sock: socket.socket) -> None:
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def serve_selfjourney(conn: Connection, data_dir: str, workers: int) -> None:
    """Child process: selfjourney on SQLite in ``data_dir``; sends (port, api key) back."""
    from selfjourney.config import Settings
    from selfjourney.embedded import build_embedded

    sock, port = listen()
    values: dict[str, Any] = {"data_dir": Path(data_dir), "workers": workers, "port": port}
    settings = Settings(**values, public_url=f"http://127.0.0.1:{port}")
    runtime = build_embedded(settings)
    _, key = runtime.store.accounts.create("bench", CREDITS)
    app = runtime.app()
    conn.send((port, key))
    conn.close()
    serve(app, sock)


@contextmanager
def served(target: Callable[..., None], *args: Any) -> Iterator[tuple[str, str]]:
    """Run ``target(conn, *args)`` in a spawned child; yield (base URL, token) it reports."""
    with served_child(target, *args) as (url, token, _pid):
        yield url, token


@contextmanager
def served_child(target: Callable[..., None], *args: Any) -> Iterator[tuple[str, str, int]]:
    """As ``served``, also yielding the child's process id (to read its memory and threads)."""
    ctx = multiprocessing.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    process = ctx.Process(target=target, args=(writer, *args), daemon=True)
    process.start()
    writer.close()
    try:
        if not reader.poll(STARTUP_TIMEOUT):
            raise RuntimeError(f"{target.__name__} did not start in {STARTUP_TIMEOUT} s")
        port, token = reader.recv()
        assert process.pid is not None
        yield f"http://127.0.0.1:{port}", token, process.pid
    finally:
        reader.close()
        process.terminate()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()


def wait_ready(client: httpx.Client, path: str) -> None:
    """Block until the served app answers ``path`` (any status)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            client.get(path)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
