"""A worker's database writes that must outlast a database briefly locked or unreachable.

A SQLite file held by another process past `busy_timeout`, or PostgreSQL restarting, makes a
statement fail. A job that has separated a whole song must not end `failed internal` for that:
its end-of-job writes wait and retry, a progress step is skipped (the next one carries on), and
the claim loop looks again later. When the lease runs out meanwhile, the write itself says so
(finish returns False) and the job's next owner carries on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from riffroom.storage.unavailable import is_busy_or_unreachable

log = logging.getLogger("riffroom.worker")

T = TypeVar("T")

END_OF_JOB_PATIENCE_SECONDS = 120.0


def patiently(call: Callable[[], T], *, what: str, patience_seconds: float = END_OF_JOB_PATIENCE_SECONDS) -> T:
    """`call()`, retried with backoff while the database is busy or unreachable, up to the patience."""
    deadline = time.monotonic() + patience_seconds
    delay = 0.2
    while True:
        try:
            return call()
        except Exception as exc:
            if not is_busy_or_unreachable(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: the database is busy or unreachable (%s); retrying in %.1f s", what, exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def skipped_if_unavailable(call: Callable[[], None], *, what: str) -> None:
    """`call()`, or nothing when the database is busy or unreachable: for steps the next one replaces."""
    try:
        call()
    except Exception as exc:
        if not is_busy_or_unreachable(exc):
            raise
        log.warning("%s skipped: the database is busy or unreachable (%s)", what, str(exc)[:200])
