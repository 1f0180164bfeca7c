"""Embedded events: one API node reads new `job_events` rows every `events_poll_seconds`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import func, select

from riffroom.events import Dispatch, Resync
from riffroom.storage.db import Database
from riffroom.storage.models import JobEvent

log = logging.getLogger("riffroom.events")
BATCH = 1000


class TableEventSource:
    def __init__(self, db: Database, interval: float) -> None:
        self.db, self.interval = db, interval
        self._last_id = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self, dispatch: Dispatch, resync: Resync) -> None:
        self._last_id = await asyncio.to_thread(self._max_id)
        self._task = asyncio.create_task(self._loop(dispatch), name="riffroom-event-pump")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _max_id(self) -> int:
        with self.db.read() as s:
            return int(s.scalar(select(func.max(JobEvent.id))) or 0)

    def _fetch(self, after_id: int) -> list[tuple[int, str, int, str, dict[str, Any]]]:
        with self.db.read() as s:
            rows = s.execute(
                select(JobEvent.id, JobEvent.job_id, JobEvent.seq, JobEvent.type, JobEvent.payload)
                .where(JobEvent.id > after_id)
                .order_by(JobEvent.id)
                .limit(BATCH)
            ).all()
        return [tuple(r) for r in rows]

    async def _loop(self, dispatch: Dispatch) -> None:
        while True:
            try:
                rows = await asyncio.to_thread(self._fetch, self._last_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading job events failed")
                await asyncio.sleep(1.0)
                continue
            for event_id, job_id, seq, kind, payload in rows:
                self._last_id = event_id
                dispatch(job_id, seq, kind, payload)
            if len(rows) < BATCH:
                await asyncio.sleep(self.interval)
