"""Worker hosts announce themselves in Redis, so every API node's /health/ready can say how many
separation processes are alive across the cluster (they share no process table).

Each `riffroom worker` host keeps one key, `riffroom:worker-host:<node>`, holding its
supervisor's status; it re-sets the key every `worker_presence_seconds` with a time-to-live of
three times that, and deletes it on a clean stop. A host that died just stops being counted. The
nodes are also listed in one sorted set (score: when the entry runs out), so a reader asks for
O(hosts) keys and never scans the keyspace.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("riffroom.presence")
PREFIX = "riffroom:worker-host:"
INDEX = "riffroom:worker-hosts"


class WorkerPresence(threading.Thread):
    """The worker host's side: keep this host's key fresh until `stop`."""

    def __init__(self, url: str, node: str, status: Callable[[], dict[str, Any]], every: float) -> None:
        super().__init__(name="riffroom-worker-presence", daemon=True)
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.key, self.node, self.status, self.every = PREFIX + node, node, status, every
        self._stop_event = threading.Event()

    def announce(self) -> None:
        import redis

        record = {
            **self.status(),
            "node": self.node,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "at": round(time.time(), 3),
        }
        record.pop("workers", None)  # per-process detail stays on the host
        ttl = self.every * 3
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(self.key, json.dumps(record), px=int(ttl * 1000))
            pipe.zadd(INDEX, {self.node: _redis_now(self.client) + ttl})
            pipe.execute()
        except redis.RedisError as exc:  # the queue is down too; jobs wait, and so does this
            log.warning("could not announce this worker host: %s", exc)

    def run(self) -> None:
        while True:
            try:
                self.announce()
            except Exception:  # never let one bad beat end the announcements
                log.exception("announcing this worker host failed")
            if self._stop_event.wait(self.every):
                return

    def stop(self) -> None:
        import redis

        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=5)  # so a beat in flight cannot bring the key back after the goodbye
        try:
            self.client.delete(self.key)
            self.client.zrem(INDEX, self.node)
        except redis.RedisError:
            pass  # the key expires by itself
        self.client.close()


def _redis_now(client: Any) -> float:
    """Redis's clock, so hosts whose clocks disagree still agree on what has run out."""
    seconds, micros = client.time()
    return float(seconds) + float(micros) / 1e6


def worker_hosts(client: Any) -> list[dict[str, Any]]:
    """Every worker host that announced itself within its time-to-live (four round trips)."""
    client.zremrangebyscore(INDEX, "-inf", _redis_now(client))
    nodes = sorted(n.decode() if isinstance(n, bytes) else n for n in client.zrange(INDEX, 0, -1))
    if not nodes:
        return []
    return [json.loads(raw) for raw in client.mget([PREFIX + n for n in nodes]) if raw is not None]
