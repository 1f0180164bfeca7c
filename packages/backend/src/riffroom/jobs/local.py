"""Embedded queue backend: jobs wait in the database; supervised worker subprocesses claim them.

The API side (`LocalJobQueue`) runs the supervisor, which spawns the workers; each worker's
`LocalJobConsumer` polls the database for the next queued job (store.claim_next, owners taking
turns) and runs it. Nothing is sent: the row is the queue.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from riffroom.config import Settings
from riffroom.jobs import store
from riffroom.jobs.runner import WorkerContext, run_job
from riffroom.jobs.supervisor import Supervisor
from riffroom.storage.db import Database
from riffroom.storage.unavailable import is_busy_or_unreachable

log = logging.getLogger("riffroom.worker")


class LocalJobQueue:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.supervisor = Supervisor(settings, db)

    def start(self) -> None:
        self.supervisor.start()

    def stop(self) -> None:
        self.supervisor.stop()

    def enqueue(self, job_id: str) -> None:
        # The row is the queue: workers poll for queued rows, so there is nothing to send.
        self.supervisor.wake()

    def status(self) -> dict[str, Any]:
        return self.supervisor.status()


class LocalJobConsumer:
    """Claim the next queued job, run it, look again; idle, wait `worker_poll_seconds`."""

    def consume(self, ctx: WorkerContext) -> None:
        parent = os.getppid()
        settings = ctx.settings
        while not ctx.shutdown.is_set():
            if os.getppid() != parent:
                break
            try:
                job = store.claim_next(ctx.db, ctx.worker_id, settings.lease_seconds)
            except Exception as exc:  # a database locked or restarting: look again later
                if not is_busy_or_unreachable(exc):
                    raise
                log.warning("claiming a job: the database is busy or unreachable (%s)", str(exc)[:200])
                job = None
            if job is None:
                ctx.shutdown.wait(settings.worker_poll_seconds)
                continue
            run_job(job.id, ctx)
