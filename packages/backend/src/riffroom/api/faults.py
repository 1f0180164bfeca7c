"""Infrastructure faults turned into answers a client can act on, never a bare 500.

A full disk is 507 `insufficient_storage` (nothing was half-written: every writer uses a temp
name and cleans up). A database that stays locked past its busy timeout, or a lost connection
to PostgreSQL or Redis, is 503 `unavailable` with `Retry-After`: the pools re-make their
connections on the next request (pre-ping on PostgreSQL, redis-py reconnects on its own), so
a retry succeeds once the service is back, without restarting the server.
"""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse

from riffroom.errors import is_disk_full, storage_full
from riffroom.storage.unavailable import is_busy_or_unreachable

log = logging.getLogger("riffroom.api")

RETRY_AFTER_SECONDS = 2


def fault_response(exc: BaseException) -> JSONResponse | None:
    """The 507 or 503 answer for `exc`, or None when it is not an infrastructure fault."""
    if is_disk_full(exc):
        log.warning("disk full: %s", exc)
        body = {"error": {"code": "insufficient_storage", "message": str(storage_full("the request's data"))}}
        return JSONResponse(body, status_code=507)
    if is_busy_or_unreachable(exc):
        log.warning("database or queue busy or unreachable: %s: %s", type(exc).__name__, str(exc)[:300])
        message = "the server's database or queue is busy or unreachable right now; retry shortly"
        return JSONResponse(
            {"error": {"code": "unavailable", "message": message}},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return None
