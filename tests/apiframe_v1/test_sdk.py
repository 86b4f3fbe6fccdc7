"""The official ``apiframe-sdk`` 1.0.0, unchanged but for ``base_url``, against a served app.

The app runs under uvicorn with one real worker thread, so ``tasks.wait_for`` polls real
progress; every image the SDK hands back is downloaded and decoded.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from apiframe import Apiframe
from apiframe.exceptions import ApiframeError, AuthenticationError
from PIL import Image

from selfjourney.domain.sizes import grid_image_size
from selfjourney.embedded import Embedded, build_embedded
from selfjourney.engines.base import Engine
from tests.apiframe_v1.flows import pixels
from tests.conftest import make_settings
from tests.fakes import FailingEngine, SlowEngine
from tests.midapi.files import FileServer
from tests.midapi.steps import png
from tests.server import ThreadedServer

#: Seconds between the SDK's polls (its default is 3).
POLL = 0.05


@dataclass
class Served:
    url: str
    key: str
    runtime: Embedded

    def client(self, key: str | None = None) -> Apiframe:
        return Apiframe(api_key=key or self.key, base_url=self.url, timeout=30)


class _Late:
    """An ASGI app filled in after the server has its port, so image URLs can name it."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _serve(
    tmp_path: Path, credits: int, engine: Engine | None = None, **overrides: Any
) -> Iterator[Served]:
    late = _Late()
    server = ThreadedServer(late)
    settings = make_settings(tmp_path / "data", workers=1, public_url=server.url, **overrides)
    runtime = build_embedded(settings, engine=engine)
    _, key = runtime.store.accounts.create("sdk", credits=credits)
    late.app = runtime.app()
    with server:
        yield Served(server.url, key, runtime)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path, credits=1000, engine=SlowEngine())


def _image(url: str) -> Image.Image:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, url
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def test_the_readme_flow_runs_unchanged(served: Served):
    progress: list[int] = []
    with served.client() as client:
        task = client.midjourney.imagine({"prompt": "a red fox in the snow", "aspect_ratio": "1:1"})
        assert task["id"] == task["task_id"]
        result = client.tasks.wait_for(task["id"], on_progress=progress.append, interval=POLL)
        assert result["status"] == "completed" and result["task_type"] == "imagine"
        assert result["progress"] == 100 and result["percentage"] == "100"
        assert any(0 < p < 100 for p in progress), progress  # real progress was seen
        assert progress == sorted(progress)

        grid = _image(result["original_image_url"])
        images = [_image(url) for url in result["image_urls"]]
        assert grid.size == (2048, 2048)
        assert [image.size for image in images] == [(1024, 1024)] * 4

        up = client.midjourney.upscale_1x({"parent_task_id": task["id"], "index": 3})
        upscaled = client.tasks.wait_for(up["id"], interval=POLL)
        assert upscaled["task_type"] == "upscale#3" and "image_urls" not in upscaled
        assert pixels(_image(upscaled["image_url"])) == pixels(images[2])

        var = client.midjourney.variations({"parent_task_id": task["id"], "index": "1"})
        reroll = client.midjourney.reroll({"parent_task_id": task["id"], "prompt": "a fox, dusk"})
        both = client.tasks.get_many([var["id"], reroll["id"]])
        assert [t["id"] for t in both["tasks"]] == [var["id"], reroll["id"]]
        assert [t["task_type"] for t in both["tasks"]] == ["variations", "reroll"]
        for job_id in (var["id"], reroll["id"]):
            finished = client.tasks.wait_for(job_id, interval=POLL)
            assert [_image(u).size for u in finished["image_urls"]] == [(1024, 1024)] * 4
            assert _image(finished["original_image_url"]).size == (2048, 2048)

        account = client.tasks.get_account_info()
    assert account["credits"] == 1000 - 16 - 4 - 16 - 16  # the server's cost table
    assert account["total_images"] == 4 + 1 + 4 + 4
    assert account["plan"] and "@" in account["email"]


def test_blend_runs_unchanged(served: Served):
    files = {"/red.png": png((230, 20, 20)), "/blue.png": png((20, 20, 230))}
    with FileServer(files) as images, served.client() as client:
        urls = [images.url("/red.png"), images.url("/blue.png")]
        task = client.midjourney.blend({"image_urls": urls, "dimension": "landscape"})
        result = client.tasks.wait_for(task["id"], interval=POLL)
    assert result["status"] == "completed" and result["task_type"] == "blend"
    assert [_image(url).size for url in result["image_urls"]] == [grid_image_size("3:2")] * 4


def test_the_pro_api_runs_unchanged(tmp_path: Path):
    """``client.midjourney_alt``: imagine turbo, vary subtle, upscale creative, pan, zoom."""
    for served in _serve(tmp_path, credits=1000, engine=SlowEngine(), upscaler="lanczos"):
        with served.client() as client:
            pro = client.midjourney_alt
            task = pro.imagine({"prompt": "a red fox in the snow", "mode": "turbo"})
            assert task["id"] == task["task_id"]
            result = client.tasks.wait_for(task["id"], interval=POLL)
            generation = pro.get_generation(task["id"])
            assert generation == result and generation["status"] == "completed"
            assert [_image(u).size for u in generation["image_urls"]] == [(1024, 1024)] * 4

            vary = pro.vary({"parent_task_id": task["id"], "index": 2, "type": "subtle"})
            varied = client.tasks.wait_for(vary["id"], interval=POLL)
            assert varied["task_type"] == "vary-subtle"
            assert [_image(u).size for u in varied["image_urls"]] == [(1024, 1024)] * 4

            up = pro.upscale({"parent_task_id": vary["id"], "index": "1", "type": "creative"})
            upscaled = client.tasks.wait_for(up["id"], interval=POLL)
            assert upscaled["task_type"] == "upscale-creative" and "image_urls" not in upscaled
            assert _image(upscaled["image_url"]).size == (2048, 2048)

            pan = pro.pan({"parent_task_id": task["id"], "index": 3, "type": "right"})
            zoom = pro.zoom({"parent_task_id": task["id"], "index": "4", "type": "1.5"})
            for job_id, kind, size in [
                (pan["id"], "pan-right", (1536, 1024)),
                (zoom["id"], "outpaint-1.5", (1024, 1024)),
            ]:
                finished = pro.get_generation(client.tasks.wait_for(job_id, interval=POLL)["id"])
                assert finished["task_type"] == kind and finished["progress"] == 100
                assert [_image(u).size for u in finished["image_urls"]] == [size] * 4

            with pytest.raises(ApiframeError) as bad:
                pro.zoom({"parent_task_id": task["id"], "index": 1, "type": "1"})
            assert bad.value.status == 400 and bad.value.code == "INVALID_REQUEST"
            assert "type" in bad.value.message and '"1.5", "2"' in bad.value.message
            with pytest.raises(ApiframeError) as missing:
                pro.get_generation("00000000-0000-4000-8000-000000000000")
            assert missing.value.status == 404 and missing.value.code == "NOT_FOUND"

            account = pro.get_account_info()
        assert account == {**account, "plan": "self-hosted"}
        assert account["credits"] == 1000 - 16 - 16 - 8 - 16 - 16
        assert account["total_images"] == 4 + 4 + 1 + 4 + 4


def test_sdk_errors_are_its_own_exceptions(served: Served):
    with served.client("afk_not-a-key") as stranger, pytest.raises(AuthenticationError):
        stranger.tasks.get_account_info()
    with served.client() as client:
        with pytest.raises(ApiframeError) as missing:
            client.tasks.get("00000000-0000-4000-8000-000000000000")
        assert missing.value.status == 404 and missing.value.code == "NOT_FOUND"
        assert "not found" in missing.value.message

        with pytest.raises(ApiframeError) as bad:
            client.midjourney.upscale_1x({"parent_task_id": "nope", "index": 9})
        assert bad.value.status == 400 and bad.value.code == "INVALID_REQUEST"
        assert "parent_task_id" in bad.value.message and "index" in bad.value.message

        with pytest.raises(ApiframeError) as orphan:
            client.midjourney.upscale_alt(
                {"parent_task_id": "00000000-0000-4000-8000-000000000000", "type": "subtle"}
            )
        assert orphan.value.status == 404 and orphan.value.code == "NOT_FOUND"
        assert client.tasks.get_account_info()["credits"] == 1000


def test_a_revoked_key_raises_authentication_error(served: Served):
    account = served.runtime.store.accounts.find(served.key)
    served.runtime.store.accounts.set_active(account.id, False)
    with served.client() as client, pytest.raises(AuthenticationError) as revoked:
        client.midjourney.imagine({"prompt": "a fox"})
    assert "inactive" in revoked.value.message


def test_too_few_credits_is_a_402_the_sdk_reports(tmp_path: Path):
    for served in _serve(tmp_path, credits=3):
        with served.client() as client, pytest.raises(ApiframeError) as poor:
            client.midjourney.imagine({"prompt": "a fox"})
        assert poor.value.status == 402 and poor.value.code == "INSUFFICIENT_CREDITS"
        assert poor.value.details["credits_required"] == 16


def test_wait_for_raises_with_the_failure_message(tmp_path: Path):
    for served in _serve(tmp_path, credits=100, engine=FailingEngine()):
        with served.client() as client:
            task = client.midjourney.imagine({"prompt": "a fox"})
            with pytest.raises(Exception, match="CUDA out of memory") as failed:
                client.tasks.wait_for(task["id"], interval=POLL)
            details = failed.value.task_details  # type: ignore[attr-defined]
            assert details["status"] == "failed" and details["progress"] == 0
            assert client.tasks.get_account_info()["credits"] == 100  # refunded
