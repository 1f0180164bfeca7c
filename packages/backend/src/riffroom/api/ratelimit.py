"""Failed-login counting: a sliding window per key; over the limit, how long to wait.

In memory, per API process (one process serves the API in every deployment we ship).

    limiter = LoginLimiter(max_failures=5, window=300)
    wait = limiter.retry_after(["user:ana|10.0.0.7", "ip:10.0.0.7"])   # 0.0 = go ahead
"""

from __future__ import annotations

import threading
import time
from collections import deque


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
