"""The database layer: SQLite pragmas, IMMEDIATE write transactions, the one-active-job constraint."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from pathlib import Path

import psutil
import pytest
from riffroom.jobs import store
from riffroom.storage.db import Database
from riffroom.storage.models import Job, Song
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

from tests.storage.rows import add_song


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    db.create_all()
    return db


def test_sqlite_runs_in_wal_with_busy_timeout(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with db.read() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_truncate_wal_gives_the_space_back_and_never_waits_long_on_a_reader(tmp_path: Path) -> None:
    db = _db(tmp_path)
    wal = tmp_path / "r.db-wal"
    for i in range(300):
        add_song(db, f"{i:064x}")
    assert wal.stat().st_size > 100_000
    assert db.truncate_wal()
    assert wal.stat().st_size == 0
    with db.read() as s:
        assert s.execute(text("SELECT count(*) FROM songs")).scalar() == 300, "every row kept"

    add_song(db, "f" * 64)
    with db.read() as s:  # a reader holding its snapshot: the truncation cannot finish
        s.execute(text("SELECT count(*) FROM songs")).scalar()
        started = time.monotonic()
        assert not db.truncate_wal()
        assert time.monotonic() - started < 2.0
        with db.write() as w:  # writers are not held up afterwards
            w.execute(text("UPDATE songs SET title = 'x' WHERE sha256 = :h"), {"h": "f" * 64})
    assert db.truncate_wal()
    with db.read() as s:
        assert s.execute(text("PRAGMA busy_timeout")).scalar() >= 5000, "the pool's busy timeout is restored"
    db.dispose()


def _increment(url: str, n: int) -> None:
    db = Database(url)
    for _ in range(n):
        with db.write() as s:  # read then write: safe only because the transaction is IMMEDIATE
            job = s.scalars(select(Job)).one()
            job.attempts = job.attempts + 1
    db.dispose()


def test_concurrent_read_modify_write_from_processes_loses_nothing(tmp_path: Path) -> None:
    db = _db(tmp_path)
    song = add_song(db)
    store.find_or_create(db, song, engine="dsp", model="dsp", stems=None, max_attempts=3, timeout_seconds=60)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_increment, args=(db.url, 100)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with db.read() as s:
        assert s.scalars(select(Job)).one().attempts == 400


def test_at_most_one_active_job_per_request_key(tmp_path: Path) -> None:
    db = _db(tmp_path)
    song = add_song(db)
    job, created = store.find_or_create(
        db, song, engine="dsp", model="dsp", stems=None, max_attempts=3, timeout_seconds=60
    )
    again, created_again = store.find_or_create(
        db, song, engine="dsp", model="dsp", stems=None, max_attempts=3, timeout_seconds=60
    )
    assert created and not created_again and again.id == job.id
    with pytest.raises(IntegrityError), db.write() as s:  # the database itself refuses a second one
        s.add(Job(song_id=song.id, dedupe_key=job.dedupe_key, engine="dsp"))
    store.request_cancel(db, job.id)
    third, created_third = store.find_or_create(
        db, song, engine="dsp", model="dsp", stems=None, max_attempts=3, timeout_seconds=60
    )
    assert created_third and third.id != job.id


def test_requeue_counts_attempts_and_fails_at_the_limit(tmp_path: Path) -> None:
    db = _db(tmp_path)
    song = add_song(db)
    job, _ = store.find_or_create(db, song, engine="dsp", model="dsp", stems=None, max_attempts=2, timeout_seconds=60)
    assert store.claim_next(db, "w1", 30).id == job.id  # type: ignore[union-attr]
    assert store.requeue(db, job.id, reason="worker died") == "queued"
    assert store.claim_next(db, "w2", 30).id == job.id  # type: ignore[union-attr]
    assert not store.finish(db, job.id, "w1", {}), "a worker that lost its lease cannot finish the job"
    assert store.requeue(db, job.id, reason="worker died") == "failed"
    with db.read() as s:
        row = s.get(Job, job.id)
        assert row is not None and row.error_code == "worker_crashed" and "2 attempts" in (row.error or "")


def test_events_get_consecutive_sequence_numbers(tmp_path: Path) -> None:
    from riffroom.storage.models import JobEvent

    db = _db(tmp_path)
    song = add_song(db)
    job, _ = store.find_or_create(db, song, engine="dsp", model="dsp", stems=None, max_attempts=2, timeout_seconds=60)
    store.claim_next(db, "w", 30)
    for i in range(5):
        store.report_progress(db, job.id, "w", progress=i / 5, stage="separating", eta=1.0)
    with db.read() as s:
        events = s.scalars(select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id)).all()
    assert [e.seq for e in events] == list(range(1, 7))
    store.finish(db, job.id, "w", {"cache_key": "k", "stems": []})
    with db.read() as s:
        events = s.scalars(select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id)).all()
    # Once final, only the final event is kept (what a resuming client is sent); ids are never reused.
    assert [(e.seq, e.type) for e in events] == [(7, "done")]
    assert events[0].payload["job"]["state"] == "done"
    assert events[0].id > 6


def _open_files(path: Path) -> int:
    """How many descriptors this process holds on `path` (each SQLite connection opens the file)."""
    return sum(1 for f in psutil.Process().open_files() if f.path == str(path))


def _after_a_burst_of_readers(path: Path, readers: int) -> Database:
    """A database with one song that `readers` sessions have just read at once."""
    db = Database(f"sqlite:///{path}")
    db.create_all()
    add_song(db, "a" * 64)
    barrier = threading.Barrier(readers)

    def read() -> None:
        with db.read() as s:
            s.execute(select(Song)).all()  # a session takes its connection at its first statement
            barrier.wait(timeout=30)  # all of them hold one at once

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return db


def test_an_idle_release_closes_what_a_burst_of_readers_opened(tmp_path: Path) -> None:
    """Twelve readers at once leave their descriptors open after them (SQLite keeps a closed
    connection's file open while another is open); with none in use, the release closes them
    all, and the pools work on. With one in use it does nothing (it would give nothing back)."""
    db = _after_a_burst_of_readers(tmp_path / "p.db", 12)
    assert _open_files(tmp_path / "p.db") >= 12
    with db.read() as held:
        held.execute(select(Song)).all()
        assert db.release_idle_connections() is False
        assert _open_files(tmp_path / "p.db") >= 12
    assert db.release_idle_connections() is True
    assert _open_files(tmp_path / "p.db") == 0
    add_song(db, "b" * 64)  # the pools open connections again when asked
    with db.read() as s:
        assert len(s.execute(select(Song)).all()) == 2
    db.dispose()


def test_a_connection_checked_out_as_the_pools_were_replaced_is_closed_by_the_next_release(tmp_path: Path) -> None:
    """The race the in-use check cannot close: a request checks a connection out between the
    check and the pools' replacement, and returns it to the old pool. Left open there, it alone
    would keep every closed connection's descriptor open (until the garbage collector found the
    old pool); the next release closes it, and all of them go."""
    db = _after_a_burst_of_readers(tmp_path / "p.db", 6)
    straggler = db.read_engine.connect()
    straggler.execute(select(Song)).all()
    real_checkedout = QueuePool.checkedout
    try:
        QueuePool.checkedout = lambda self: 0  # type: ignore[method-assign]  # checked out just after the check
        assert db.release_idle_connections() is True
    finally:
        QueuePool.checkedout = real_checkedout  # type: ignore[method-assign]
    straggler.close()  # back to the pool that was replaced
    assert _open_files(tmp_path / "p.db") >= 6, "one connection open keeps the closed ones' files open"
    assert db.release_idle_connections() is True
    assert _open_files(tmp_path / "p.db") == 0
    db.dispose()
