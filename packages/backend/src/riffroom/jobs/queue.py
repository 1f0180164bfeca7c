"""The job queue seam. The queue carries only job ids; state lives in the database.

Three sides, one backend per `queue_url`, and nothing above this module asks which:

queue = open_job_queue(settings, db)      # an API node: start workers (embedded) and send ids
queue.enqueue(job.id)
open_job_consumer(settings).consume(ctx)  # a worker process: run jobs until ctx.shutdown
open_worker_host(settings, db).start()    # `riffroom worker`: worker processes for a shared queue
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from riffroom.config import Settings
from riffroom.storage.db import Database

if TYPE_CHECKING:
    from riffroom.jobs.runner import WorkerContext


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


class JobConsumer(Protocol):
    def consume(self, ctx: WorkerContext) -> None:
        """Run jobs in this process, one at a time, each with runner.run_job, until `ctx.shutdown`
        is set or the parent process is gone. A job interrupted by shutdown goes back to the queue."""
        ...


class WorkerHost(Protocol):
    """`riffroom worker`: supervised worker processes on this host, taking jobs from a queue that
    other hosts share. `node` names this host in logs and in the readiness reports."""

    node: str

    def start(self) -> None: ...

    def stop(self) -> None:
        """Stop the worker processes, handing their running jobs back to the queue."""
        ...


def _backend(settings: Settings) -> str:
    url = settings.queue_url
    if url.startswith("local:"):
        return "local"
    if url.startswith(("redis://", "rediss://")):
        return "dramatiq"
    raise ValueError(f"unsupported queue URL {url!r}: expected local:// or redis://host:port/db")


def open_job_queue(settings: Settings, db: Database) -> JobQueue:
    if _backend(settings) == "local":
        from riffroom.jobs.local import LocalJobQueue

        return LocalJobQueue(settings, db)
    from riffroom.jobs.dramatiq_queue import DramatiqJobQueue

    return DramatiqJobQueue(settings)


def open_job_consumer(settings: Settings) -> JobConsumer:
    if _backend(settings) == "local":
        from riffroom.jobs.local import LocalJobConsumer

        return LocalJobConsumer()
    from riffroom.jobs.dramatiq_queue import DramatiqJobConsumer

    return DramatiqJobConsumer()


def open_worker_host(settings: Settings, db: Database) -> WorkerHost:
    """Raises ValueError when the queue has no room for other hosts' workers (local://)."""
    if _backend(settings) == "local":
        raise ValueError(
            "riffroom worker takes jobs from a Redis queue: set RIFFROOM_QUEUE_URL=redis://host:port/db "
            "(with the embedded local:// queue, `riffroom serve` runs the workers itself)"
        )
    from riffroom.jobs.dramatiq_queue import DramatiqWorkerHost

    return DramatiqWorkerHost(settings, db)
