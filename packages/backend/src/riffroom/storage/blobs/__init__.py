"""Blob store seam: a small protocol and one module per backend, chosen by URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from riffroom.storage.blobs.base import BlobStore, check_key

__all__ = ["BlobStore", "check_key", "open_blob_store"]


def open_blob_store(url: str) -> BlobStore:
    """`file:///abs/dir` -> FileBlobStore. (`s3://bucket/prefix` belongs to the scale-out backend.)"""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        from riffroom.storage.blobs.file import FileBlobStore

        return FileBlobStore(Path(parsed.path))
    raise ValueError(f"unsupported blob store URL {url!r}: expected file:///path")
