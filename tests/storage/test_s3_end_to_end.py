"""The embedded app on S3 (moto over loopback): jobs submitted over HTTP store their pictures in
the bucket, clients download them by presigned URL, an upsample is a copy inside the bucket,
the OpenAI dialect reads pictures back, and the retention purge empties the bucket."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from PIL import Image

from selfjourney.embedded import Embedded, build_embedded
from selfjourney.storage.base import Storage
from selfjourney.storage.s3 import S3Storage
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.flows import act, finished, generate
from tests.midapi.fakes import SmallEngine
from tests.s3 import Bucket


def on_s3(tmp_path: Path, bucket: Bucket, clock: FakeClock, **settings: Any) -> Embedded:
    values = {"retention_days": 90, **bucket.settings(), **settings}
    runtime = build_embedded(
        make_settings(tmp_path / "data", **values), engine=SmallEngine(), clock=clock
    )
    assert isinstance(runtime.storage, S3Storage)
    return runtime


def operations(storage: Storage) -> list[str]:
    """The S3 operations the app's client sends from now on (a botocore event hook)."""
    assert isinstance(storage, S3Storage)
    sent: list[str] = []
    storage.client.meta.events.register(
        "before-call.s3", lambda model, **_: sent.append(model.name)
    )
    return sent


def fetched(url: str, content_type: str = "image/png") -> tuple[Image.Image, bytes]:
    """A picture URL downloaded as a client would: no key, straight from the bucket."""
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, (url, response.text)
    assert response.headers["content-type"] == content_type
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image, response.content


def test_imagine_upsample_and_purge_on_s3(tmp_path: Path, s3_bucket: Bucket):
    clock = FakeClock()
    runtime = on_s3(tmp_path, s3_bucket, clock)
    _, raw = runtime.store.accounts.create("t", credits=100)
    headers = {"X-API-Key": raw}
    sent = operations(runtime.storage)
    with TestClient(runtime.app()) as client:
        grid = finished(client, headers, generate(client, headers, prompt="a fox --ar 3:2"))
        urls = [*grid["result"]["images"], grid["result"]["gridUrl"]]
        bucket_url = f"{s3_bucket.endpoint}/{s3_bucket.name}/images/{grid['id']}-"
        assert all(url.startswith(bucket_url) and "X-Amz-Signature=" in url for url in urls)
        pictures = [fetched(url) for url in urls]
        assert [image.size for image, _ in pictures] == [(314, 210)] * 4 + [(628, 420)]

        sent.clear()
        upsample = finished(
            client, headers, act(client, headers, grid["id"], action="upsample", index=2)
        )
        assert "CopyObject" in sent and not {"GetObject", "PutObject"} & set(sent), sent
        [url] = upsample["result"]["images"]
        assert fetched(url)[1] == pictures[1][1]  # the grid's second picture, byte for byte
        assert len(s3_bucket.keys("images/")) == 6

        clock.advance(days=91)
        runtime.workers.janitor.sweep()
        assert s3_bucket.keys() == []
        expired = client.get(f"/v2/jobs/{grid['id']}", headers=headers).json()
        assert expired["expired"] is True and expired["result"] is None


def test_openai_images_read_pictures_back_from_s3(tmp_path: Path, s3_bucket: Bucket):
    clock = FakeClock()
    runtime = on_s3(tmp_path, s3_bucket, clock, workers=1)
    _, raw = runtime.store.accounts.create("t", credits=100)
    headers = {"Authorization": f"Bearer {raw}"}
    with TestClient(runtime.app()) as client:
        inline = client.post(
            "/v1/images/generations",
            json={"prompt": "a fox", "n": 2, "response_format": "b64_json"},
            headers=headers,
        )
        assert inline.status_code == 200, inline.text
        for item in inline.json()["data"]:
            decoded = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
            assert (decoded.format, decoded.size) == ("PNG", (256, 256))

        linked = client.post(
            "/v1/images/generations",
            json={"prompt": "a hare", "response_format": "url", "output_format": "jpeg"},
            headers=headers,
        )
        assert linked.status_code == 200, linked.text
        [item] = linked.json()["data"]
        image, _ = fetched(item["url"], content_type="image/jpeg")  # a rendition, stored
        assert (image.format, image.size) == ("JPEG", (256, 256))
        assert item["url"].startswith(f"{s3_bucket.endpoint}/{s3_bucket.name}/images/renditions/")

        clock.advance(days=91)
        runtime.workers.janitor.sweep()
        assert s3_bucket.keys() == []
