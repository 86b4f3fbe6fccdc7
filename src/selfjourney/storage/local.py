"""Files in a folder, served by the app under ``/cdn/``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


class LocalStorage:
    """Keys are relative paths under ``root``; URLs are ``{public_url}/cdn/{key}``."""

    def __init__(self, root: Path, public_url: str) -> None:
        self.root = root.resolve()
        self.public_url = public_url.rstrip("/")
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        """The file of a key; checked by spelling, with no file-system calls (hot path)."""
        parts = key.split("/")
        if (
            not key
            or key.startswith("/")
            or "\\" in key
            or any(p in ("", ".", "..") for p in parts)
        ):
            raise ValueError(f"storage key escapes the root: {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def copy(self, source: str, target: str) -> None:
        """A hard link when the file system allows (stored images never change), else a copy."""
        src, dst = self._path(source), self._path(target)
        tmp = dst.with_name(f".tmp-{dst.name}")
        try:
            os.link(src, tmp)
        except FileExistsError:
            tmp.unlink()
            os.link(src, tmp)
        except FileNotFoundError:
            if not src.exists():
                raise
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.link(src, tmp)
        except OSError:  # no hard links here (another device, a FAT volume...)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_folder(self, prefix: str) -> None:
        if not prefix.endswith("/"):
            raise ValueError(f"a folder prefix ends in '/': {prefix!r}")
        shutil.rmtree(self._path(prefix.rstrip("/")), ignore_errors=True)

    def url(self, key: str) -> str:
        return f"{self.public_url}/cdn/{key}"

    def check(self) -> None:
        """The folder is there and takes a file: a real write, as a read-only mount or a full
        disk fails it where permission bits would not."""
        with tempfile.TemporaryFile(dir=self.root, prefix=".check-"):
            pass
