"""Blob store seam: a small protocol and one module per backend, chosen by URL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from riffroom.storage.blobs.base import BlobStore, check_key

if TYPE_CHECKING:
    from riffroom.config import Settings

__all__ = ["BlobStore", "check_key", "open_blob_store"]


def open_blob_store(url: str, settings: Settings) -> BlobStore:
    """`file:///abs/dir` -> FileBlobStore; `s3://bucket/prefix` -> S3BlobStore (endpoint and keys from settings)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        from riffroom.storage.blobs.file import FileBlobStore

        return FileBlobStore(Path(parsed.path))
    if parsed.scheme == "s3":
        from riffroom.storage.blobs.s3 import S3BlobStore

        return S3BlobStore.from_url(
            url,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    raise ValueError(f"unsupported blob store URL {url!r}: expected file:///path or s3://bucket/prefix")
