"""Scale-out events: Redis pub/sub from every writer to every API node.

Pub/sub delivers at most once, so the database stays the record: a node that (re)subscribes
calls `resync`, which re-reads every followed job (replay or snapshot, seq numbers from the
database), and the hub's per-connection seq check drops anything it already sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from riffroom.events import Dispatch, Resync

log = logging.getLogger("riffroom.events")
CHANNEL = "riffroom:job-events"
RECONNECT_SECONDS = 0.5


class RedisEventPublisher:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def publish(self, payloads: list[dict[str, Any]]) -> None:
        if len(payloads) == 1:
            self.client.publish(CHANNEL, json.dumps(payloads[0]))
            return
        pipe = self.client.pipeline(transaction=False)
        for payload in payloads:
            pipe.publish(CHANNEL, json.dumps(payload))
        pipe.execute()

    def close(self) -> None:
        self.client.close()


class RedisEventSource:
    def __init__(self, url: str) -> None:
        self.url = url
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self, dispatch: Dispatch, resync: Resync) -> None:
        self._task = asyncio.create_task(self._loop(dispatch, resync), name="riffroom-redis-events")
        try:  # usually immediate; a node whose Redis is down starts anyway and catches up later
            await asyncio.wait_for(self.connected.wait(), timeout=5)
        except TimeoutError:
            log.warning("Redis events not connected yet (%s); retrying in the background", self.url)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _loop(self, dispatch: Dispatch, resync: Resync) -> None:
        import redis.asyncio as aioredis

        first = True
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=5)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.connected.set()
                    if not first:
                        await resync()  # events published while we were away are in the database
                    first = False
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            payload = json.loads(message["data"])
                            dispatch(str(payload["job_id"]), int(payload["seq"]), str(payload["type"]), payload)
                        except Exception:
                            log.exception("bad job event on %s", CHANNEL)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                log.warning("Redis events connection lost (%s); reconnecting", exc)
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                await client.aclose()
