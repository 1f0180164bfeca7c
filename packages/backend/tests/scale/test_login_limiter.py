"""Failed logins counted in a real redis-server: API nodes count together, windows expire, and an
unreachable Redis still leaves every node limited on its own."""

from __future__ import annotations

import time

import pytest
from riffroom.api.ratelimit import FailureCounter, LoginLimiter, RedisLoginLimiter, open_login_limiter
from riffroom.config import Settings

from tests.api.harness import free_port

ANA = {"user:ana|10.0.0.7": 3, "ip:10.0.0.7": 12}
BOB = {"user:bob|10.0.0.8": 3, "ip:10.0.0.8": 12}


def _fresh(redis_url: str, window: float = 300.0) -> RedisLoginLimiter:
    limiter = RedisLoginLimiter(redis_url, 3, window)
    limiter.client.flushdb()
    return limiter


def test_two_nodes_count_together(redis_url: str) -> None:
    node_a, node_b = _fresh(redis_url), RedisLoginLimiter(redis_url, 3, 300.0)
    node_a.failed(ANA)
    node_b.failed(ANA)
    assert node_a.retry_after(ANA) == 0.0 and node_b.retry_after(ANA) == 0.0
    node_a.failed(ANA)  # the third failure, wherever it happened
    for node in (node_a, node_b):
        assert 299.0 < node.retry_after(ANA) <= 300.0
    assert node_b.retry_after(BOB) == 0.0  # somebody else is not locked out
    node_b.succeeded("user:ana|10.0.0.7")  # a good password on either node clears the user's count
    assert node_a.retry_after({"user:ana|10.0.0.7": 3}) == 0.0


def test_failures_leave_the_window_and_their_keys_expire(redis_url: str) -> None:
    limiter = _fresh(redis_url, window=1.0)
    for _ in range(3):
        limiter.failed(ANA)
    assert limiter.retry_after(ANA) > 0.0
    assert 0 < limiter.client.ttl(RedisLoginLimiter.PREFIX + "user:ana|10.0.0.7") <= 2
    time.sleep(1.1)
    assert limiter.retry_after(ANA) == 0.0


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_both_limiters_decide_alike(redis_url: str, kind: str) -> None:
    """The wait is measured from the limit-th newest failure, as in the in-memory limiter."""
    limiter: FailureCounter = LoginLimiter(3, 10.0) if kind == "memory" else _fresh(redis_url, window=10.0)
    waits = []
    for _ in range(5):
        limiter.failed({"user:eve|1.2.3.4": 3})
        waits.append(limiter.retry_after({"user:eve|1.2.3.4": 3}))
        time.sleep(0.05)
    assert waits[:2] == [0.0, 0.0]
    assert 9.5 < waits[2] <= 10.0  # 10 s from the first of the three failures (~0.1 s ago)
    assert 9.5 < waits[4] <= 10.0  # still over while the newest three are in the window
    assert limiter.retry_after({"user:eve|1.2.3.4": 6}) == 0.0  # a key with a higher limit is not yet over


def test_an_unreachable_redis_still_limits_in_this_process() -> None:
    limiter = RedisLoginLimiter(f"redis://127.0.0.1:{free_port()}/0", 3, 300.0)
    for _ in range(3):
        limiter.failed(ANA)
    assert limiter.retry_after(ANA) > 299.0
    limiter.succeeded("user:ana|10.0.0.7")
    assert limiter.retry_after({"user:ana|10.0.0.7": 3}) == 0.0


def test_the_server_picks_redis_when_the_deployment_has_it(redis_url: str) -> None:
    assert isinstance(open_login_limiter(Settings(queue_url=redis_url)), RedisLoginLimiter)
    assert isinstance(open_login_limiter(Settings()), LoginLimiter)
