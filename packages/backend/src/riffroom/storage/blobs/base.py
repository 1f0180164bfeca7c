"""The blob store protocol: content-addressed bytes under validated keys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*$")


def check_key(key: str) -> str:
    """Keys are lowercase slash-separated names: never absolute, never `..`."""
    if not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid blob key {key!r}")
    return key


class BlobStore(Protocol):
    def put_file(self, key: str, src: Path) -> None:
        """Move `src` in under `key`, atomically (a reader sees all of it or nothing)."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None:
        """Remove `key`; no error when it is already gone."""
        ...

    def open(self, key: str) -> BinaryIO: ...

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A local file holding the blob for the duration of the context (download for remote stores)."""
        ...

    def keys(self, prefix: str) -> Iterator[str]:
        """For offline garbage collection only; never called while serving a request."""
        ...
