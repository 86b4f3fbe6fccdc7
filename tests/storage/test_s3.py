"""S3Storage against moto's server: the Storage protocol's promises, server-side copies,
batched folder deletes, presigned and public URLs, and the readiness check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from selfjourney.storage.s3 import S3Storage
from tests.s3 import REGION, Bucket


def storage_in(bucket: Bucket, **options: Any) -> S3Storage:
    return S3Storage(bucket.name, endpoint_url=bucket.endpoint, region=REGION, **options)


@pytest.fixture
def storage(s3_bucket: Bucket) -> S3Storage:
    return storage_in(s3_bucket)


@pytest.fixture
def calls(storage: S3Storage) -> Iterator[list[str]]:
    """The S3 operations the storage's client sends, in order (a botocore event hook)."""
    sent: list[str] = []

    def record(model: Any, **_: Any) -> None:
        sent.append(model.name)

    storage.client.meta.events.register("before-call.s3", record)
    yield sent
    storage.client.meta.events.unregister("before-call.s3", record)


def test_put_get_exists_delete(storage: S3Storage, s3_bucket: Bucket):
    assert not storage.exists("images/j-1.png")
    with pytest.raises(FileNotFoundError):
        storage.get("images/j-1.png")
    storage.put("images/j-1.png", b"first")
    storage.put("images/j-1.png", b"again")  # a re-render writes the same key
    assert storage.exists("images/j-1.png") and storage.get("images/j-1.png") == b"again"
    storage.delete("images/j-1.png")
    storage.delete("images/j-1.png")  # already gone: no error
    assert not storage.exists("images/j-1.png") and s3_bucket.keys() == []


def test_objects_carry_their_content_type(storage: S3Storage, s3_bucket: Bucket):
    types = {
        "images/a.png": "image/png",
        "images/renditions/j/1.JPG": "image/jpeg",
        "images/renditions/j/1.webp": "image/webp",
        "uploads/blob": "application/octet-stream",
    }
    for key, content_type in types.items():
        storage.put(key, b"x")
        head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=key)
        assert head["ContentType"] == content_type, key


def test_copy_is_server_side(storage: S3Storage, s3_bucket: Bucket, calls: list[str]):
    storage.put("images/grid-2.png", b"picture")
    calls.clear()
    storage.copy("images/grid-2.png", "images/up-1.png")
    assert calls == ["CopyObject"]  # the bytes never came through this process
    assert storage.get("images/up-1.png") == b"picture"
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key="images/up-1.png")
    assert head["ContentType"] == "image/png"
    with pytest.raises(FileNotFoundError):
        storage.copy("images/missing.png", "images/other.png")


def test_delete_folder_batches_a_thousand_keys_a_call(
    storage: S3Storage,
    s3_bucket: Bucket,
    calls: list[str],
):
    inside = [f"renditions/j1/{n:04}.png" for n in range(1003)]
    outside = ["renditions/j10/1.png", "renditions/j1.png", "images/j1-1.png"]
    s3_bucket.seed(inside + outside)
    storage.delete_folder("renditions/j1/")
    assert calls.count("DeleteObjects") == 2
    assert s3_bucket.keys() == sorted(outside)
    storage.delete_folder("renditions/j1/")  # nothing left: no error
    with pytest.raises(ValueError, match="ends in '/'"):
        storage.delete_folder("renditions/j1")


def test_presigned_url_downloads_and_expires_as_set(s3_bucket: Bucket):
    storage = storage_in(s3_bucket, presign_seconds=600)
    storage.put("images/j-1.png", b"\x89PNG bytes")
    url = storage.url("images/j-1.png")
    assert url.startswith(f"{s3_bucket.endpoint}/{s3_bucket.name}/images/j-1.png?")
    assert "X-Amz-Expires=600" in url and "X-Amz-Signature=" in url
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == b"\x89PNG bytes"
    assert response.headers["content-type"] == "image/png"
    assert httpx.get(url.partition("?")[0]).status_code == 403  # unsigned: refused


def test_public_url_is_the_base_and_the_key(s3_bucket: Bucket):
    storage = storage_in(s3_bucket, public_url="https://cdn.example.com/pictures/")
    assert storage.url("images/j-1.png") == "https://cdn.example.com/pictures/images/j-1.png"


def test_check_passes_on_the_bucket_and_fails_without_it(storage: S3Storage, s3_bucket: Bucket):
    storage.check()
    missing = S3Storage("sj-no-such-bucket", endpoint_url=s3_bucket.endpoint, region=REGION)
    with pytest.raises(OSError, match="'sj-no-such-bucket' is not usable"):
        missing.check()
