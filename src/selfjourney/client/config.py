"""Where the client finds its server and its key: the flags, else the environment, else the
local server and the development key ``make serve`` wrote into its data dir.

The client's own settings, apart from the server's ``Settings``: it reads ``SELFJOURNEY_SERVER``
and ``SELFJOURNEY_API_KEY``, and, to find a local server, the ``SELFJOURNEY_HOST``,
``SELFJOURNEY_PORT`` and ``SELFJOURNEY_DATA_DIR`` that ``serve`` reads too.

Usage::

    connection = connect(server=None, key=None, data_dir=None, env=ClientEnv.from_environ())
    # after `make serve` in this directory: http://127.0.0.1:8000 and ./data/dev-api-key
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from selfjourney.client.errors import ClientError, NoKey

#: The file in the data dir holding the development key (``selfjourney keys bootstrap``).
DEV_KEY_FILE = "dev-api-key"
_ANY_ADDRESS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


@dataclass(frozen=True)
class ClientEnv:
    """The ``SELFJOURNEY_*`` variables the client reads; every other one is ignored.

    A plain value read by ``from_environ`` (no pydantic-settings: a command starts faster).
    """

    #: Base URL of the server, e.g. ``https://images.example.com``.
    server: str | None = None
    api_key: str | None = None
    #: Where a local server keeps its data, and so the development key.
    data_dir: Path = Path("./data")
    #: Where a local server listens (as ``serve`` reads them), when no server URL is given.
    host: str = "127.0.0.1"
    port: int = 8000

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> ClientEnv:
        """Read ``environ``; a port that is not a number is a ``ClientError`` naming it."""
        port = environ.get("SELFJOURNEY_PORT", "8000").strip()
        if not port.isdigit() or int(port) > 65535:
            raise ClientError(f"SELFJOURNEY_PORT must be a port number, not {port!r}")
        return cls(
            server=environ.get("SELFJOURNEY_SERVER") or None,
            api_key=environ.get("SELFJOURNEY_API_KEY") or None,
            data_dir=Path(environ.get("SELFJOURNEY_DATA_DIR") or "./data"),
            host=environ.get("SELFJOURNEY_HOST", "127.0.0.1").strip(),
            port=int(port),
        )


@dataclass(frozen=True)
class Connection:
    """A server's base URL (no trailing slash), the key to send it, and where the key came from
    (named in the message when the server refuses it)."""

    server: str
    key: str
    key_source: str


def connect(
    *, server: str | None, key: str | None, data_dir: Path | None, env: ClientEnv
) -> Connection:
    """Resolve the server and key: flag, else environment, else the local server's dev key.

    The development key file is read only for a server on this machine, so a local key is
    never sent to a remote server by accident.
    """
    url = (server or env.server or _local_url(env.host, env.port)).rstrip("/")
    if "://" not in url:
        url = f"http://{url}"
    if key:
        return Connection(url, key.strip(), "--key")
    if env.api_key:
        return Connection(url, env.api_key.strip(), "SELFJOURNEY_API_KEY")
    if not _is_loopback(url):
        raise NoKey(f"no API key for {url}: pass --key KEY or set SELFJOURNEY_API_KEY")
    path = (data_dir or env.data_dir) / DEV_KEY_FILE
    try:
        found = path.read_text().strip()
    except OSError:
        found = ""
    if not found:
        raise NoKey(
            f"no API key: pass --key KEY or set SELFJOURNEY_API_KEY; {path} (the development "
            "key `make serve` writes) was not found; run `selfjourney keys bootstrap` or "
            "`make serve` in this directory, or pass --data-dir"
        )
    return Connection(url, found, str(path))


def _local_url(host: str, port: int) -> str:
    host = _ANY_ADDRESS.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
