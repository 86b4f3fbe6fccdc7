"""/upscale-highres of a caller's ``image_url``: served over loopback, downloaded by the worker.

Private URLs are allowed by the test settings (``webhook_allow_private``), as for reference
images; Lanczos upscales (see tests/api/test_upscale.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from selfjourney.config import Settings
from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.embedded import build_embedded
from tests.apiframe_v1.flows import credits, fetch, refused, submit
from tests.conftest import make_settings
from tests.flows import download, drain
from tests.midapi.files import FileServer

COST = DEFAULT_COSTS["upscale"]


def _png(size: tuple[int, int]) -> bytes:
    """A gradient with a square in it: smooth enough to compare after a resize."""
    width, height = size
    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.uint8)[:, None].repeat(width, 1)
    pixels = np.stack([x, y, np.full_like(x, 90)], axis=-1)
    pixels[height // 4 : height // 2, width // 4 : width // 2] = (250, 240, 20)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", upscaler="lanczos")


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": api_key}


@pytest.fixture
def files() -> Iterator[FileServer]:
    with FileServer(
        {
            "/photo.png": _png((640, 480)),
            "/big.png": _png((3000, 2000)),
            "/wide.png": _png((1500, 1000)),
            "/notes.txt": b"not an image",
        }
    ) as server:
        yield server


@pytest.mark.parametrize(("kind", "factor"), [("2x", 2), ("4x", 4)])
def test_an_image_url_is_upscaled_and_charged_once(client, auth, files, kind, factor):
    source = Image.open(io.BytesIO(_png((640, 480)))).convert("RGB")
    url = files.url("/photo.png")
    task_id = submit(client, auth, "/upscale-highres", image_url=url, type=kind, index="3")
    assert credits(client, auth) == 1000 - COST
    assert fetch(client, auth, task_id)["status"] == "pending"
    drain(client)
    task = fetch(client, auth, task_id)
    assert (task["status"], task["task_type"]) == ("completed", f"upscale-{kind}"), task
    assert "image_urls" not in task and "original_image_url" not in task
    image = download(client, task["image_url"])
    assert image.size == (640 * factor, 480 * factor)
    shrunk = image.convert("RGB").resize(source.size, Image.Resampling.BOX)
    diff = np.abs(np.asarray(shrunk, np.int16) - np.asarray(source, np.int16))
    assert diff.mean() < 4  # the same picture, larger
    assert files.requested == ["/photo.png"]  # downloaded once, by the worker
    assert credits(client, auth) == 1000 - COST
    assert client.get("/account", headers=auth).json()["total_images"] == 1


@pytest.mark.parametrize(
    ("path", "kind", "reason"),
    [
        ("/big.png", "2x", "the image is 3000x2000; /upscale-highres takes images up to 2048x2048"),
        ("/wide.png", "4x", "a 4x upscale would be 6000x4000, over the 4096 px limit"),
        ("/missing.png", "2x", "answered HTTP 404"),
        ("/notes.txt", "2x", "is not a PNG, JPEG or WebP image"),
    ],
)
def test_an_unusable_image_fails_the_task_with_a_refund(client, auth, files, path, kind, reason):
    task_id = submit(client, auth, "/upscale-highres", image_url=files.url(path), type=kind)
    assert credits(client, auth) == 1000 - COST
    drain(client)
    task = fetch(client, auth, task_id)
    assert task["status"] == "failed" and task["percentage"] == "0", task
    assert task["message"].startswith("image_url unusable: ") and reason in task["message"]
    assert credits(client, auth) == 1000


def test_an_unreachable_url_fails_the_task_with_a_refund(client, auth):
    url = "http://127.0.0.1:9/a.png"  # the discard port: nothing listens
    task_id = submit(client, auth, "/upscale-highres", image_url=url, type="2x")
    drain(client)
    task = fetch(client, auth, task_id)
    assert task["status"] == "failed" and "could not download" in task["message"], task
    assert credits(client, auth) == 1000


def test_an_unsafe_url_is_refused_at_submission(tmp_path: Path):
    strict = make_settings(tmp_path / "data", allow_private_urls=False)
    runtime = build_embedded(strict)
    _, key = runtime.store.accounts.create("strict", credits=100)
    auth = {"Authorization": key}
    with TestClient(runtime.app()) as client:
        for url in ("http://127.0.0.1/a.png", "ftp://example.com/a.png", "not a url"):
            body = {"image_url": url, "type": "2x"}
            response = client.post("/upscale-highres", json=body, headers=auth)
            assert refused(response, 400, "INVALID_REQUEST")["errors"][0]["path"] == "image_url"
        assert credits(client, auth) == 100
