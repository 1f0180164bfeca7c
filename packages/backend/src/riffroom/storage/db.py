"""Database engine and sessions.

SQLite (the embedded default) runs in WAL mode with a busy timeout; write transactions open with
`BEGIN IMMEDIATE` so a read-then-write never fails with SQLITE_BUSY halfway. Keep them short.
PostgreSQL (scale-out, `postgresql://` or `postgresql+psycopg://`, psycopg 3) uses the same models;
both session kinds share one engine there, and writers lock the rows they change (FOR UPDATE).
The schema comes from the Alembic migrations in `storage/migrations/` on both (`migrate()`).

Events a write transaction appends (`session.info["events"]`) are handed to `on_events` after the
commit, so an event bus never announces a change that was rolled back.

    db = Database("sqlite:////tmp/riffroom.db")
    db.migrate()
    with db.write() as s:
        s.add(Song(...))
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import Pool, QueuePool

from riffroom.storage import auth_models, band_models, practice_models  # noqa: F401  (register their tables on Base)
from riffroom.storage.models import Base

log = logging.getLogger("riffroom.db")

WAL_TRUNCATE_WAIT_MS = 200  # how long an idle-time WAL truncation waits for a lock
BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_engine(url: str, *, immediate: bool, pool_size: int, busy_timeout_ms: int) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Two session factories: `read()` for queries, `write()` for short write transactions."""

    def __init__(self, url: str, *, pool_size: int = 8, busy_timeout_seconds: float | None = None) -> None:
        """`busy_timeout_seconds`: how long a SQLite statement waits for a lock (RIFFROOM_DB_BUSY_TIMEOUT_SECONDS)."""
        url = normalize_url(url)
        busy_ms = BUSY_TIMEOUT_MS if busy_timeout_seconds is None else max(1, int(busy_timeout_seconds * 1000))
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.on_events: Callable[[list[dict[str, Any]]], None] | None = None
        if self.is_sqlite:
            self.read_engine = _sqlite_engine(url, immediate=False, pool_size=pool_size, busy_timeout_ms=busy_ms)
            self.write_engine = _sqlite_engine(
                url, immediate=True, pool_size=max(2, pool_size // 2), busy_timeout_ms=busy_ms
            )
        else:
            self.read_engine = self.write_engine = create_engine(url, pool_size=pool_size, pool_pre_ping=True)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._retired_pools: list[Pool] = []  # replaced by the last idle release (see there)

    def create_all(self) -> None:
        """Tables straight from the models (tests); servers and workers use `migrate()`."""
        Base.metadata.create_all(self.write_engine)

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to call from many nodes at once)."""
        from riffroom.storage.migrate import upgrade

        upgrade(self)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any exception."""
        with self._write() as session:
            with session.begin():
                yield session
            events = session.info.pop("events", None)
        if events and self.on_events is not None:
            try:
                self.on_events(events)
            except Exception:  # the database is the record; a lost notification is caught up later
                log.exception("publishing %d job events failed", len(events))

    def truncate_wal(self) -> bool:
        """Move the whole SQLite WAL into the database and cut the file to zero bytes; False if busy.

        SQLite's own checkpoints bound the WAL but keep the file at its high-water mark (about
        4 MB) for ever; an idle server calls this to give that space back. It waits at most
        `WAL_TRUNCATE_WAIT_MS` for readers and writers, so it never holds up requests for long;
        a busy database is simply tried again later. A no-op (False) on PostgreSQL."""
        if not self.is_sqlite:
            return False
        raw = self.write_engine.raw_connection()
        try:
            cur = raw.cursor()
            before = cur.execute("PRAGMA busy_timeout").fetchone()[0]
            cur.execute(f"PRAGMA busy_timeout={WAL_TRUNCATE_WAIT_MS}")
            try:
                busy, _log, _done = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                cur.execute(f"PRAGMA busy_timeout={before}")
                cur.close()
            return not busy
        finally:
            raw.close()  # back to the pool

    def release_idle_connections(self) -> bool:
        """Close every pooled SQLite connection, when none is in use; False (nothing done) if one is.

        Closing only some would not give their descriptors back: SQLite keeps a closed
        connection's file open while another connection of the process is open on it (closing it
        would drop that one's POSIX locks), so the descriptors a burst of concurrency opened stay
        until the last connection closes. Each engine gets a new pool (`Engine.dispose`):
        `Pool.dispose` on a pool in use would corrupt its count of checked-out connections (it
        resets it), and a connection checked out in the moment between the check and the dispose
        goes back to the old pool: each release first closes what came back to the pools the last
        one replaced (left open, that one connection would keep every closed descriptor open with
        it, until the garbage collector found the old pool). A no-op on PostgreSQL, whose pool
        pings its own."""
        if not self.is_sqlite:
            return False
        for pool in self._retired_pools:
            pool.dispose()  # closes only what is checked in: a straggler still out comes back next time
        engines = (self.read_engine, self.write_engine)
        in_use = [engine.pool.checkedout() if isinstance(engine.pool, QueuePool) else 1 for engine in engines]
        if any(in_use):
            log.info("idle, but pooled connections are in use (readers %d, writers %d): kept", *in_use)
            return False
        self._retired_pools = [engine.pool for engine in engines]
        for engine in engines:
            engine.dispose(close=True)
        return True

    def ping(self) -> None:
        with self.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()
