"""Objects in an S3-compatible bucket (AWS, MinIO, R2...), for a fleet whose processes share
no disk. Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``, a profile, a role).

Usage::

    storage = S3Storage("pictures", endpoint_url="http://minio:9000", public_url=None)
    storage.put("images/j-1.png", data)
    storage.url("images/j-1.png")   # presigned, or under public_url when one is given
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

#: What a browser needs to show a picture inline; anything else downloads as bytes.
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}

#: Bounded waits (a stuck connection must not hold a worker); retries of throttled or failed calls.
CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"max_attempts": 5, "mode": "standard"},
    max_pool_connections=64,  # worker threads and API threads share one client
    signature_version="s3v4",
)

#: ``delete_objects`` takes at most this many keys per call.
DELETE_BATCH = 1000


class S3Storage:
    """Keys are object keys in ``bucket``; one client, shared by every thread (boto3 clients
    are thread-safe once made)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        public_url: str | None = None,
        presign_seconds: int = 7 * 24 * 3600,
    ) -> None:
        self.bucket = bucket
        self.public_url = public_url.rstrip("/") if public_url else None
        self.presign_seconds = presign_seconds
        # A session of its own: boto3's default session is not safe to build clients from
        # in several threads at once.
        self.client: S3Client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=CLIENT_CONFIG
        )

    def put(self, key: str, data: bytes) -> None:
        """One PUT: S3 never shows a half-written object, and a re-render overwrites."""
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=_type(key))

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                raise FileNotFoundError(f"no object {key!r} in the bucket") from exc
            raise
        return response["Body"].read()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def copy(self, source: str, target: str) -> None:
        """Server-side: the bytes never leave the bucket (an upsample costs one request)."""
        try:  # the content type comes along with the object
            self.client.copy_object(
                Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}
            )
        except ClientError as exc:
            if _is_missing(exc):
                raise FileNotFoundError(f"no object {source!r} in the bucket") from exc
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_folder(self, prefix: str) -> None:
        """A listing page (up to 1000 keys) at a time, each removed in one batch request."""
        if not prefix.endswith("/"):
            raise ValueError(f"a folder prefix ends in '/': {prefix!r}")
        for page in self._pages(prefix):
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": page, "Quiet": True}
            )
            if errors := response.get("Errors"):
                raise OSError(f"S3 could not delete {len(errors)} objects: {errors[0]}")

    def url(self, key: str) -> str:
        """Under the public base when there is one, else a presigned GET (signed locally)."""
        if self.public_url is not None:
            return f"{self.public_url}/{key}"
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self.presign_seconds,
        )

    def check(self) -> None:
        """The bucket answers and these credentials reach it."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise OSError(f"S3 bucket {self.bucket!r} is not usable: {exc}") from exc

    def _pages(self, prefix: str) -> Iterator[list[ObjectIdentifierTypeDef]]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": DELETE_BATCH}
        )
        for page in pages:
            keys: list[ObjectIdentifierTypeDef] = [
                {"Key": item["Key"]} for item in page.get("Contents", [])
            ]
            if keys:
                yield keys


def _type(key: str) -> str:
    extension = key.rpartition(".")[2].lower()
    return CONTENT_TYPES.get(extension, "application/octet-stream")


def _is_missing(exc: ClientError) -> bool:
    """An absent key: the protocol promises FileNotFoundError (HEAD answers a bare 404)."""
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")
