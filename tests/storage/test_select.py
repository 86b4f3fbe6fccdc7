"""build_storage: the settings pick local files or a bucket, and a bad choice says what to do;
LocalStorage.check, the readiness probe of the default storage."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from selfjourney.config import Misconfigured
from selfjourney.embedded import build_embedded
from selfjourney.storage.local import LocalStorage
from selfjourney.storage.s3 import S3Storage
from selfjourney.storage.select import build_storage
from tests.conftest import make_settings


def test_local_is_the_default(tmp_path: Path):
    storage = build_storage(make_settings(tmp_path))
    assert isinstance(storage, LocalStorage) and storage.root == tmp_path.resolve()
    assert storage.url("images/j-1.png") == "http://testserver/cdn/images/j-1.png"


def test_s3_takes_its_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = make_settings(
        tmp_path,
        storage="s3",
        s3_bucket="pictures",
        s3_region="eu-west-3",
        s3_public_url="https://cdn.example.com",
        s3_presign_seconds=120,
    )
    storage = build_storage(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.presign_seconds) == ("pictures", 120)
    assert storage.client.meta.region_name == "eu-west-3"
    assert storage.url("images/j-1.png") == "https://cdn.example.com/images/j-1.png"


def test_s3_without_a_bucket_is_misconfigured(tmp_path: Path):
    with pytest.raises(Misconfigured, match="SELFJOURNEY_S3_BUCKET"):
        build_storage(make_settings(tmp_path, storage="s3"))


def test_s3_without_boto3_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "selfjourney.storage.s3", None)  # as if boto3 were absent
    with pytest.raises(Misconfigured, match=r"install selfjourney\[s3\]"):
        build_storage(make_settings(tmp_path, storage="s3", s3_bucket="pictures"))


def test_the_embedded_process_builds_its_storage_from_the_settings(tmp_path: Path):
    """``serve`` prints a Misconfigured and exits 1 (tests/test_cli.py shows it for engines)."""
    with pytest.raises(Misconfigured, match="SELFJOURNEY_S3_BUCKET"):
        build_embedded(make_settings(tmp_path, storage="s3"))
    runtime = build_embedded(make_settings(tmp_path))
    runtime.store.close()
    assert isinstance(runtime.storage, LocalStorage)


def test_local_check_writes_into_the_folder(tmp_path: Path):
    storage = LocalStorage(tmp_path / "files", "http://files.test")
    storage.check()
    assert list((tmp_path / "files").iterdir()) == []  # the probe file is gone again
    shutil.rmtree(tmp_path / "files")
    with pytest.raises(OSError):
        storage.check()
    (tmp_path / "files").write_text("a file where the folder was")
    with pytest.raises(OSError):
        storage.check()
