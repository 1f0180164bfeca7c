"""Queued jobs whose Dramatiq message is gone are sent again, once.

The database is the truth and the broker only carries ids, so a message can be lost while its
row stays `queued`: redis-server restarted without persistence (its memory went with it), or a
send failed after the row was written. Every `riffroom worker` host runs a `LostMessageSweeper`:
on start, at once when it sees that Redis restarted (its `run_id` changed), and every
`every` seconds, it lists the queued rows older than a grace period, reads which job ids the
broker still holds (waiting, delayed, or fetched by a worker and not yet acknowledged), and sends
the others again. Each resend first touches the row (a conditional update), so of several hosts
sweeping at once only one sends it, and a row just re-sent is not a candidate again until its
grace has passed. A message delivered twice anyway is harmless: `store.claim` leases only a job
that is still queued.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from riffroom.storage.db import Database
from riffroom.storage.models import Job, JobState

log = logging.getLogger("riffroom.lost_messages")

SWEEP_EVERY_SECONDS = 10.0  # how often a host looks for queued rows without a message
SEND_GRACE_SECONDS = 10.0  # a row younger than this may still have its first send in flight
RESTART_GRACE_SECONDS = 1.0  # after a Redis restart: whatever was queued before it is lost
WATCH_SECONDS = 1.0  # how often Redis's run_id is compared
BATCH = 500


def broker_job_ids(client: Any, namespace: str, queue_name: str) -> set[str]:
    """Job ids with a message in the broker: waiting, delayed, or taken by a worker but not acked.

    Dramatiq's Redis broker keeps each message's body in `<namespace>:<queue>.msgs` (and `.DQ.msgs`
    for delayed ones) from its send until its acknowledgement."""
    ids: set[str] = set()
    for key in (f"{namespace}:{queue_name}.msgs", f"{namespace}:{queue_name}.DQ.msgs"):
        for _field, raw in client.hscan_iter(key, count=BATCH):
            try:
                args = json.loads(raw).get("args") or []
            except (ValueError, AttributeError):
                continue
            if args and isinstance(args[0], str):
                ids.add(args[0])
    return ids


def queued_before(db: Database, cutoff: float, limit: int = BATCH) -> list[str]:
    """Queued jobs untouched since `cutoff`, oldest first."""
    with db.read() as s:
        q = (
            select(Job.id)
            .where(Job.state == JobState.queued.value, Job.updated_at < cutoff)
            .order_by(Job.updated_at)
            .limit(limit)
        )
        return list(s.scalars(q))


def take(db: Database, job_id: str, cutoff: float) -> bool:
    """Mark `job_id` as just re-sent, if it is still queued and untouched since `cutoff`."""
    with db.write() as s:
        res = s.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.queued.value, Job.updated_at < cutoff)
            .values(updated_at=time.time())
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]


class LostMessageSweeper(threading.Thread):
    """One worker host's watch over lost messages (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        client: Any,
        *,
        namespace: str,
        queue_name: str,
        send: Callable[[str], None],
        every: float = SWEEP_EVERY_SECONDS,
    ) -> None:
        super().__init__(name="riffroom-lost-messages", daemon=True)
        self.db, self.client, self.send = db, client, send
        self.namespace, self.queue_name, self.every = namespace, queue_name, every
        self.resent = 0
        self._run_id: str | None = None
        self._stop_event = threading.Event()

    def sweep(self, grace: float) -> list[str]:
        """Send again each queued job older than `grace` that has no message; the ids sent."""
        cutoff = time.time() - grace
        candidates = queued_before(self.db, cutoff)
        if not candidates:
            return []
        live = broker_job_ids(self.client, self.namespace, self.queue_name)
        sent = []
        for job_id in candidates:
            if job_id in live or not take(self.db, job_id, cutoff):
                continue
            log.warning("job %s is queued but its message is gone; sending it again", job_id)
            self.send(job_id)
            sent.append(job_id)
        self.resent += len(sent)
        return sent

    def redis_restarted(self) -> bool:
        """True once each time Redis's run_id differs from the one seen before (not on the first look)."""
        run_id = str(self.client.info("server").get("run_id", ""))
        restarted = self._run_id is not None and run_id != self._run_id
        self._run_id = run_id
        return restarted

    def run(self) -> None:
        grace = RESTART_GRACE_SECONDS  # a host starting after an outage: anything queued may be lost
        last_sweep = 0.0
        while not self._stop_event.is_set():
            try:
                if self.redis_restarted():
                    log.warning("redis-server restarted; looking for queued jobs whose message it lost")
                    grace, last_sweep = RESTART_GRACE_SECONDS, 0.0
                if time.monotonic() - last_sweep >= self.every:
                    self.sweep(grace)
                    grace, last_sweep = SEND_GRACE_SECONDS, time.monotonic()
            except Exception as exc:  # Redis or the database is down: the next look tries again
                log.warning("looking for lost queue messages failed: %s: %s", type(exc).__name__, exc)
            self._stop_event.wait(WATCH_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=10)
