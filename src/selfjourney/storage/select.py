"""The storage the settings name: local files (the default) or an S3 bucket (the fleet)."""

from __future__ import annotations

from pathlib import Path

from selfjourney.config import Misconfigured, Settings
from selfjourney.storage.base import Storage
from selfjourney.storage.local import LocalStorage


def build_storage(settings: Settings) -> Storage:
    """Made once per process; boto3 is imported only when S3 is asked for."""
    if settings.storage == "local":
        return LocalStorage(settings.data_dir, settings.base_url)
    if not settings.s3_bucket:
        raise Misconfigured("storage=s3 needs a bucket: set SELFJOURNEY_S3_BUCKET")
    try:
        from selfjourney.storage.s3 import S3Storage
    except ImportError as exc:
        raise Misconfigured(f"storage=s3 needs boto3 ({exc}): install selfjourney[s3]") from exc
    return S3Storage(
        settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        public_url=settings.s3_public_url,
        presign_seconds=settings.s3_presign_seconds,
    )


def local_images(settings: Settings) -> Path | None:
    """The directory an API process serves at ``/cdn/images``: none when pictures are in S3."""
    return settings.data_dir / "images" if settings.storage == "local" else None
