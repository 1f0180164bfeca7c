"""Everything a request handler needs, built once per server by the app factory."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riffroom.config import Settings
from riffroom.jobs.queue import JobQueue
from riffroom.storage.blobs import BlobStore
from riffroom.storage.db import Database
from riffroom.storage.stems import StemCache, open_stem_store


@dataclass
class ServerContext:
    settings: Settings
    db: Database
    blobs: BlobStore
    cache: StemCache
    queue: JobQueue
    tmp_dir: Path  # partial uploads; same filesystem as the blob store when it is a file store
    derived_dir: Path  # transcoded stems, peaks and mixes, all keyed by the cache key
    hub: Any = None  # the WebSocket EventHub, set once the app starts
    accounts: Any = None  # api.security.Accounts, set once the app starts

    @classmethod
    def build(cls, settings: Settings) -> ServerContext:
        from riffroom.jobs.queue import open_job_queue
        from riffroom.storage.blobs import open_blob_store

        data = settings.data_dir.resolve()
        data.mkdir(parents=True, exist_ok=True)
        (data / "tmp").mkdir(exist_ok=True)
        _sweep_stale_uploads(data / "tmp")
        settings.derived_dir.mkdir(exist_ok=True)
        db = Database(settings.resolved_database_url, busy_timeout_seconds=settings.db_busy_timeout_seconds)
        db.migrate()
        from riffroom.events import open_event_publisher

        publisher = open_event_publisher(settings)
        if publisher is not None:
            db.on_events = publisher.publish
        blobs = open_blob_store(settings.resolved_blob_url, settings)
        return cls(
            settings=settings,
            db=db,
            blobs=blobs,
            cache=open_stem_store(settings, blobs),
            queue=open_job_queue(settings, db),
            tmp_dir=data / "tmp",
            derived_dir=settings.derived_dir,
        )


STALE_UPLOAD_SECONDS = 3600.0


def _sweep_stale_uploads(tmp: Path) -> None:
    """Partial uploads left by a server that was killed mid-request."""
    cutoff = time.time() - STALE_UPLOAD_SECONDS
    for item in tmp.glob("upload-*"):
        try:
            if item.stat().st_mtime < cutoff:
                item.unlink()
        except FileNotFoundError:
            continue
