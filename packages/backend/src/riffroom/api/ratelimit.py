"""Failed-login counting: a sliding window per key; over the limit, how long to wait.

In memory for one API process; in Redis when the deployment has Redis (its queue or events), so
that API nodes behind a balancer count together and an attacker gains nothing by spreading guesses.

    limiter = open_login_limiter(settings)
    wait = limiter.retry_after({"user:ana|10.0.0.7": 5, "ip:10.0.0.7": 20})   # 0.0 = go ahead
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from riffroom.config import Settings

log = logging.getLogger("riffroom.auth")


class FailureCounter(Protocol):
    def retry_after(self, keys: dict[str, int]) -> float: ...
    def failed(self, keys: dict[str, int]) -> None: ...
    def succeeded(self, key: str) -> None: ...


class LoginLimiter:
    """Up to `max_failures` failures per key per `window` seconds (keys may scale their own limit)."""

    MAX_KEYS = 100_000  # bounded memory under a spray of made-up names

    def __init__(self, max_failures: int, window: float) -> None:
        self.max_failures, self.window = max_failures, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, keys: dict[str, int]) -> float:
        """Seconds to wait before another attempt (0 when allowed); `keys` maps key -> its limit."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key, limit in keys.items():
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(wait, times[len(times) - limit] + self.window - now)
        return wait

    def failed(self, keys: dict[str, int]) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > self.MAX_KEYS:
                for key in list(self._failures)[: self.MAX_KEYS // 10]:
                    del self._failures[key]
            for key in keys:
                self._failures.setdefault(key, deque(maxlen=1000)).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class RedisLoginLimiter:
    """The same sliding windows as LoginLimiter, kept in Redis sorted sets (score = failure time).

    Every key expires one window after its last failure. While Redis cannot be reached, this
    process counts on its own (never unlimited, never locking everybody out).
    """

    PREFIX = "riffroom:login-failures:"
    KEEP = 1000  # failures remembered per key, as LoginLimiter's deque

    def __init__(self, url: str, max_failures: int, window: float) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.max_failures, self.window = max_failures, window
        self.fallback = LoginLimiter(max_failures, window)
        self._warned_at = -math.inf

    def _unreachable(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            log.warning("login limiter: Redis unreachable (%s); counting in this process meanwhile", exc)

    def retry_after(self, keys: dict[str, int]) -> float:
        import redis

        now = time.time()
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, limit in keys.items():
                pipe.zremrangebyscore(self.PREFIX + key, "-inf", now - self.window)
                pipe.zrange(self.PREFIX + key, -limit, -limit, withscores=True)  # the limit-th newest
            results = pipe.execute()
        except redis.RedisError as exc:
            self._unreachable(exc)
            return self.fallback.retry_after(keys)
        wait = 0.0
        for nth_newest in results[1::2]:
            if nth_newest:
                wait = max(wait, float(nth_newest[0][1]) + self.window - now)
        return max(wait, self.fallback.retry_after(keys))

    def failed(self, keys: dict[str, int]) -> None:
        import redis

        now = time.time()
        member = f"{now:.6f}-{uuid.uuid4().hex[:8]}"
        try:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.zadd(self.PREFIX + key, {member: now})
                pipe.zremrangebyrank(self.PREFIX + key, 0, -self.KEEP - 1)
                pipe.expire(self.PREFIX + key, math.ceil(self.window) + 1)
            pipe.execute()
        except redis.RedisError as exc:
            self._unreachable(exc)
            self.fallback.failed(keys)

    def succeeded(self, key: str) -> None:
        import redis

        self.fallback.succeeded(key)
        try:
            self.client.delete(self.PREFIX + key)
        except redis.RedisError as exc:
            self._unreachable(exc)


def open_login_limiter(settings: Settings) -> FailureCounter:
    """Redis when the queue or the events use it (several API nodes), else this process's memory."""
    from riffroom.events import resolved_events_url

    url = resolved_events_url(settings)
    if url.startswith(("redis://", "rediss://")):
        return RedisLoginLimiter(url, settings.login_max_failures, settings.login_window_seconds)
    return LoginLimiter(settings.login_max_failures, settings.login_window_seconds)
