"""Embedded queue backend: jobs wait in the database; supervised worker subprocesses claim them."""

from __future__ import annotations

from typing import Any

from riffroom.config import Settings
from riffroom.jobs.supervisor import Supervisor
from riffroom.storage.db import Database


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
