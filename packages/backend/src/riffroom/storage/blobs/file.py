"""Blob store on the local filesystem: `<root>/<key>`, written by temp file + fsync + rename."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from riffroom.storage.blobs.base import check_key


class FileBlobStore:
    remote = False  # the blobs are files on this host (and on every host sharing its data dir)

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / ".tmp").mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:
            raise ValueError(f"blob key {key!r} escapes the store")
        return path

    def _temp(self) -> Path:
        return self.root / ".tmp" / f"{os.getpid()}-{os.urandom(6).hex()}"

    def put_file(self, key: str, src: Path) -> None:
        dst = self._path(key)
        tmp = self._temp()
        try:
            shutil.move(str(src), tmp)  # a rename on one filesystem; a copy (that can fail) across two
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._commit(tmp, dst)

    def upload(self, key: str, src: Path) -> None:
        dst = self._path(key)
        tmp = self._temp()
        try:
            shutil.copyfile(src, tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._commit(tmp, dst)

    def _commit(self, tmp: Path, dst: Path) -> None:
        """fsync the finished temp file, rename it into place, fsync the directory."""
        try:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dst)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(dst.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def download(self, key: str, dst: Path) -> None:
        src = self._path(key)
        if not src.is_file():
            raise FileNotFoundError(f"blob {key!r} is missing")
        shutil.copyfile(src, dst)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"blob {key!r} is missing")
        yield path
