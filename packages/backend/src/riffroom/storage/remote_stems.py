"""Stems in a remote blob store (S3), so every API node can serve what any worker host separated.

The worker publishes a finished cache entry under `stems/<cache key>/` (the WAVs, then
`manifest.json` last, so a manifest means a complete set); an API node that lacks the entry in
its local cache downloads it into that cache on first use and serves it from there (Range,
ETag and transcodes work as for local stems). With a file blob store nothing here runs.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from riffroom.separation.cache import MANIFEST, StemCache
from riffroom.storage.blobs import BlobStore

log = logging.getLogger("riffroom.stems")


def is_remote(blobs: BlobStore) -> bool:
    return bool(getattr(blobs, "remote", False))


def _prefix(key: str) -> str:
    return f"stems/{key}"


def published(blobs: BlobStore, key: str) -> bool:
    return is_remote(blobs) and blobs.exists(f"{_prefix(key)}/{MANIFEST}")


def upload_entry(blobs: Any, entry_dir: Path, key: str) -> None:
    """Copy a published cache entry to the blob store; manifest last. No-op when already there."""
    if published(blobs, key):
        return
    for wav in sorted(entry_dir.glob("*.wav")):
        blobs.upload(f"{_prefix(key)}/{wav.name}", wav)
    blobs.upload(f"{_prefix(key)}/{MANIFEST}", entry_dir / MANIFEST)
    log.info("stems %s uploaded to the blob store", key[:12])


def fetch_entry(blobs: Any, cache: StemCache, key: str) -> bool:
    """Download `key`'s stems into the local cache. False when the blob store does not have them."""
    if not published(blobs, key):
        return False
    with blobs.open(f"{_prefix(key)}/{MANIFEST}") as fh:
        manifest = json.loads(fh.read())
    staging = cache.new_staging_dir()
    try:
        for name in manifest["stems"]:
            blobs.download(f"{_prefix(key)}/{name}.wav", staging / f"{name}.wav")
        cache.publish(key, staging, {k: v for k, v in manifest.items() if k not in ("size", "key", "format")})
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("stems %s fetched from the blob store", key[:12])
    return True
