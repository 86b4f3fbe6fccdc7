"""An S3 for tests: moto's server on loopback, started once per session, a fresh bucket per
test. Real HTTP all the way (boto3 signs and sends, presigned URLs download with httpx).

Usage (import the fixtures into the conftest.py of the tests that need them)::

    from tests.s3 import s3_bucket, s3_endpoint  # noqa: F401     (in conftest.py)

    def test_x(s3_bucket: Bucket):
        build_embedded(make_settings(tmp_path, **s3_bucket.settings()))
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"
#: What moto's server accepts as credentials (it checks none); set for boto3's chain per test.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class Moto:
    endpoint: str
    #: A client of the tests' own, to look inside buckets.
    client: S3Client


@dataclass(frozen=True)
class Bucket:
    """A bucket made for one test."""

    endpoint: str
    name: str
    client: S3Client

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=prefix
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def seed(self, keys: Iterable[str], data: bytes = b"x") -> None:
        """Many objects at once, written into moto's own state (it runs in this process):
        a thousand PUTs over HTTP would take most of a minute on a busy machine."""
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        for key in keys:
            backend.put_object(self.name, key, data)

    def settings(self) -> dict[str, Any]:
        """Settings fields that point selfjourney at this bucket."""
        return {
            "storage": "s3",
            "s3_bucket": self.name,
            "s3_endpoint_url": self.endpoint,
            "s3_region": REGION,
        }


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[Moto]:
    """moto's S3 server in a thread of this process, on a free loopback port."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.session.Session(
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    ).client("s3", endpoint_url=endpoint, region_name=REGION)
    try:
        yield Moto(endpoint, client)
    finally:
        client.close()
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: Moto, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A new, empty bucket; test credentials in the environment, where boto3's chain finds
    them (and no profile or token of the developer's)."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    name = f"sj-{uuid.uuid4().hex[:12]}"
    s3_endpoint.client.create_bucket(Bucket=name)
    return Bucket(s3_endpoint.endpoint, name, s3_endpoint.client)
