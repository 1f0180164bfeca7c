"""Is this error a database or queue that is busy or unreachable for now (so a retry can succeed)?

Shared by the API (503 with Retry-After) and the workers (a progress step skipped, an end-of-job
write retried): SQLite locked past its busy timeout, or a lost PostgreSQL/Redis connection.
"""

from __future__ import annotations

_BUSY_TEXTS = ("database is locked", "database is busy", "database table is locked")


def _transient_kinds() -> tuple[type[BaseException], ...]:
    kinds: list[type[BaseException]] = []
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        kinds += [RedisConnectionError, RedisTimeoutError]
    except ImportError:
        pass
    try:
        from psycopg import OperationalError as PsycopgOperationalError

        kinds.append(PsycopgOperationalError)
    except ImportError:
        pass
    return tuple(kinds)


_TRANSIENT = _transient_kinds()


def transient_errors() -> tuple[type[BaseException], ...]:
    """The client-library errors of a lost Redis or PostgreSQL connection (those installed)."""
    return _TRANSIENT


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in out):
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def is_busy_or_unreachable(exc: BaseException) -> bool:
    """SQLite locked past busy_timeout, or PostgreSQL/Redis connections lost or refused."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    for part in _chain(exc):
        if isinstance(part, DBAPIError) and part.connection_invalidated:
            return True
        if isinstance(part, OperationalError) and any(t in str(part) for t in _BUSY_TEXTS):
            return True
        if _TRANSIENT and isinstance(part, _TRANSIENT):
            return True
        if isinstance(part, (ConnectionRefusedError, ConnectionResetError, BrokenPipeError)):
            return True
    return False
