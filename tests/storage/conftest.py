"""moto's S3 for every test here (tests/s3.py)."""

from tests.s3 import s3_bucket, s3_endpoint  # noqa: F401
