"""Worker hosts announce themselves in a real redis-server; readers see who is alive, and a host
that died without a word drops out once its announcement runs out."""

from __future__ import annotations

import time

import redis
from riffroom.jobs.presence import INDEX, WorkerPresence, worker_hosts

from tests.api.harness import wait_until


def test_hosts_appear_leave_and_run_out(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.delete(INDEX)
    first = WorkerPresence(redis_url, "aaaa0001", lambda: {"alive": 2, "wanted": 2, "restarts": 0}, every=0.2)
    second = WorkerPresence(redis_url, "aaaa0002", lambda: {"alive": 1, "wanted": 1, "restarts": 3}, every=0.2)
    first.start()
    second.start()
    seen = wait_until(
        lambda: {h["node"]: h for h in worker_hosts(client)} if len(worker_hosts(client)) == 2 else None, timeout=5
    )
    assert seen["aaaa0001"]["alive"] == 2 and seen["aaaa0002"]["restarts"] == 3
    assert "workers" not in seen["aaaa0001"] and seen["aaaa0001"]["host"]

    first.stop()  # a clean stop says goodbye at once
    assert [h["node"] for h in worker_hosts(client)] == ["aaaa0002"]

    second._stop_event.set()  # dies without a word: no more announcements, no goodbye
    second.join()
    assert [h["node"] for h in worker_hosts(client)] == ["aaaa0002"]
    started = time.monotonic()
    wait_until(lambda: worker_hosts(client) == [], timeout=5)
    assert time.monotonic() - started < 3.0  # three announcement periods (0.6 s), with room for a busy machine
    assert client.zcard(INDEX) == 0  # the index is pruned as it is read
