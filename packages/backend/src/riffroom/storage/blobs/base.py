"""The blob store protocol: bytes under validated keys, on this host's disk or in a remote service.

Everything above this seam (uploads, the workers, the stem store) uses only what is declared
here, so it never needs to know which backend it was given.
"""

from __future__ import annotations

import re
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
    @property
    def remote(self) -> bool:
        """True when the blobs live off this host, so other hosts cannot read this host's files."""
        ...

    def put_file(self, key: str, src: Path) -> None:
        """Move `src` in under `key`, atomically (a reader sees all of it or nothing)."""
        ...

    def upload(self, key: str, src: Path) -> None:
        """Copy `src` in under `key`, atomically; `src` stays where it is."""
        ...

    def download(self, key: str, dst: Path) -> None:
        """Write the blob to the local file `dst`; FileNotFoundError when there is no such blob."""
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
