"""The job queue seam. The queue carries only job ids; state lives in the database.

queue = open_job_queue(settings, db)
queue.start()
queue.enqueue(job.id)
"""

from __future__ import annotations

from typing import Any, Protocol

from riffroom.config import Settings
from riffroom.storage.db import Database


class JobQueue(Protocol):
    def start(self) -> None:
        """Start delivering jobs (the local backend spawns and supervises its workers)."""
        ...

    def stop(self) -> None: ...

    def enqueue(self, job_id: str) -> None:
        """Deliver `job_id` to a worker (at least once). The job row must already exist."""
        ...

    def status(self) -> dict[str, Any]:
        """`{"alive": int, "wanted": int, ...}` for the readiness check; cheap, no I/O."""
        ...


def open_job_queue(settings: Settings, db: Database) -> JobQueue:
    url = settings.queue_url
    if url.startswith("local:"):
        from riffroom.jobs.local import LocalJobQueue

        return LocalJobQueue(settings, db)
    if url.startswith(("redis://", "rediss://")):
        from riffroom.jobs.dramatiq_queue import DramatiqJobQueue

        return DramatiqJobQueue(settings)
    raise ValueError(f"unsupported queue URL {url!r}: expected local:// or redis://host:port/db")
