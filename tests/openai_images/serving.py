"""A served app for the OpenAI dialect's tests, and what tests read back from it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import httpx2
from openai import OpenAI
from PIL import Image

from selfjourney.embedded import Embedded, build_embedded
from selfjourney.engines.base import Engine
from selfjourney.storage.local import LocalStorage
from tests.conftest import make_settings
from tests.server import ThreadedServer


class _Late:
    """An ASGI app filled in after the server has its port, so image URLs can name it."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class Served:
    url: str
    runtime: Embedded
    #: Requests the SDK clients made by this object sent (retries included).
    sent: list[str] = field(default_factory=list)
    #: The SDK clients handed out, closed by ``close_clients`` (a test's teardown).
    clients: list[OpenAI] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def key(self, credits: int = 1000) -> str:
        _, raw = self.runtime.store.accounts.create("openai", credits=credits)
        return raw

    def sdk(self, key: str, **options: Any) -> OpenAI:
        """The ``openai`` SDK as a user builds it: only ``base_url`` and the key changed."""
        hooks = {"request": [lambda request: self.sent.append(str(request.url))]}
        options.setdefault("timeout", 60)
        client = OpenAI(
            base_url=self.base_url,
            api_key=key,
            http_client=httpx2.Client(event_hooks=hooks),
            **options,
        )
        self.clients.append(client)
        return client

    def close_clients(self) -> None:
        while self.clients:
            self.clients.pop().close()

    def v2(self, key: str, path: str) -> Any:
        """A GET through Apiframe v2 (every job reads there too)."""
        response = httpx.get(f"{self.url}/v2{path}", headers={"X-API-Key": key}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def balance(self, key: str) -> int:
        credits: int = self.v2(key, "/me")["team"]["credits"]
        return credits

    def jobs(self, key: str) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = self.v2(key, "/jobs?limit=100")["jobs"]
        return jobs


@contextmanager
def serving(
    data_dir: Path,
    *,
    engine: Engine | None = None,
    storage: type[LocalStorage] = LocalStorage,
    **overrides: Any,
) -> Iterator[Served]:
    """The embedded app under uvicorn with real worker threads (one unless overridden)."""
    late = _Late()
    server = ThreadedServer(late)
    values: dict[str, Any] = {"workers": 1, "public_url": server.url, **overrides}
    settings = make_settings(data_dir / "data", **values)
    files = storage(settings.data_dir, settings.base_url)
    runtime = build_embedded(settings, engine=engine, storage=files)
    late.app = runtime.app()
    with server:
        served = Served(server.url, runtime)
        try:
            yield served
        finally:
            served.close_clients()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def fetched(url: str, **headers: str) -> tuple[Image.Image, str, bytes]:
    """A picture URL fetched as a client would (no key needed): image, content type, bytes."""
    response = httpx.get(url, headers=headers, timeout=30)
    assert response.status_code == 200, (url, response.status_code)
    return decoded(response.content), response.headers["content-type"], response.content


def extra(obj: Any, name: str) -> Any:
    """An extension field the SDK kept on its model (``job_id``, ``credits``...)."""
    fields: dict[str, Any] = obj.model_extra or {}
    return fields[name]


def data_of(result: Any) -> list[Any]:
    """``ImagesResponse.data``, which the SDK types as optional."""
    assert result.data is not None
    data: list[Any] = result.data
    return data
