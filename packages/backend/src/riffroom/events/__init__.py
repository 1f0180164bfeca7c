"""The event bus seam: how job events reach every API node's WebSocket hub.

Workers and API nodes write each event as a `job_events` row (the record, replayed to resuming
clients); the bus only announces them. Chosen by `events_url` (default: Redis pub/sub when the
queue is on Redis, else the local backend):

- `local://` (events/local.py): no publisher, the table is the log; each API node polls
  `job_events` every `events_poll_seconds`.
- `redis://` (events/redis.py): PUBLISH after each commit; each API node SUBSCRIBEs, and after
  a reconnect re-reads every followed job from the database.

    source = open_event_source(settings, db)
    await source.start(dispatch=hub.dispatch, resync=hub.resync)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from riffroom.config import Settings
from riffroom.storage.db import Database

Dispatch = Callable[[str, int, str, dict[str, Any]], None]  # (job_id, seq, type, payload)
Resync = Callable[[], Awaitable[None]]


class EventSource(Protocol):
    async def start(self, dispatch: Dispatch, resync: Resync) -> None:
        """Begin calling `dispatch` for every new event; `resync` after any gap the source cannot fill."""
        ...

    async def stop(self) -> None: ...


class EventPublisher(Protocol):
    def publish(self, payloads: list[dict[str, Any]]) -> None:
        """Announce events already committed to the database (best effort)."""
        ...

    def close(self) -> None: ...


def resolved_events_url(settings: Settings) -> str:
    if settings.events_url:
        return settings.events_url
    return settings.queue_url if settings.queue_url.startswith(("redis://", "rediss://")) else "local://"


def open_event_publisher(settings: Settings) -> EventPublisher | None:
    url = resolved_events_url(settings)
    if url.startswith("local:"):
        return None
    if url.startswith(("redis://", "rediss://")):
        from riffroom.events.redis import RedisEventPublisher

        return RedisEventPublisher(url)
    raise ValueError(f"unsupported events URL {url!r}: expected local:// or redis://host:port/db")


def open_event_source(settings: Settings, db: Database) -> EventSource:
    url = resolved_events_url(settings)
    if url.startswith("local:"):
        from riffroom.events.local import TableEventSource

        return TableEventSource(db, settings.events_poll_seconds)
    if url.startswith(("redis://", "rediss://")):
        from riffroom.events.redis import RedisEventSource

        return RedisEventSource(url)
    raise ValueError(f"unsupported events URL {url!r}: expected local:// or redis://host:port/db")


__all__ = [
    "EventPublisher",
    "EventSource",
    "open_event_publisher",
    "open_event_source",
    "resolved_events_url",
]
