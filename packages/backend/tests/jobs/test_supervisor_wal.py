"""An idle embedded server gives the SQLite WAL's high-water mark back; a busy one does not try."""

from __future__ import annotations

import threading
from pathlib import Path

import psutil
from riffroom.config import Settings
from riffroom.jobs import store
from riffroom.jobs.supervisor import Supervisor
from riffroom.storage.db import Database
from riffroom.storage.models import Song
from sqlalchemy import select

from tests.storage.rows import add_song


def _grown(tmp_path: Path) -> tuple[Database, Path]:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    db.create_all()
    for i in range(300):
        add_song(db, f"{i:064x}")
    wal = tmp_path / "r.db-wal"
    assert wal.stat().st_size > 100_000
    return db, wal


def _supervisor(tmp_path: Path, db: Database) -> Supervisor:
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", model_dir=None, workers=0)
    sup = Supervisor(settings, db)
    sup._last_wal_truncate = 0.0  # as if the half minute had passed
    return sup


def test_with_no_job_running_a_tick_cuts_the_wal(tmp_path: Path) -> None:
    db, wal = _grown(tmp_path)
    _supervisor(tmp_path, db).tick()
    assert not wal.exists() or wal.stat().st_size == 0  # cut to zero, or gone with the last connection
    db.dispose()


def test_with_a_job_running_the_wal_is_left_alone(tmp_path: Path) -> None:
    db, wal = _grown(tmp_path)
    song = add_song(db, "e" * 64)
    job, _ = store.find_or_create(db, song, engine="dsp", model=None, stems=None, max_attempts=3, timeout_seconds=600)
    assert store.claim(db, job.id, "worker-elsewhere", lease_seconds=600) is not None
    size = wal.stat().st_size
    _supervisor(tmp_path, db).tick()
    assert wal.stat().st_size >= size
    db.dispose()


def _open_files(path: Path) -> int:
    """How many descriptors this process holds on `path` (each SQLite connection opens the file)."""
    return sum(1 for f in psutil.Process().open_files() if f.path == str(path))


def test_an_idle_tick_closes_the_connections_a_busy_spell_opened(tmp_path: Path) -> None:
    """Eight readers at once leave eight pooled connections; idle, they are closed (the soak's
    descriptor count came back 2 over its baseline); one still in use keeps working."""
    db, _wal = _grown(tmp_path)
    barrier = threading.Barrier(8)

    def read() -> None:
        with db.read() as s:
            s.execute(select(Song)).all()  # a session takes its connection at its first statement
            barrier.wait(timeout=30)  # all eight hold a connection at once

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    busy = _open_files(tmp_path / "r.db")
    assert busy >= 8
    with db.read() as held:
        _supervisor(tmp_path, db).tick()
        assert _open_files(tmp_path / "r.db") <= 2  # the one held here, and (at most) the writer's
        assert len(held.execute(select(Song)).all()) == 300
    assert _open_files(tmp_path / "r.db") <= 2
    add_song(db, "f" * 64)  # the pools open connections again when asked
    with db.read() as s:
        assert len(s.execute(select(Song)).all()) == 301
    db.dispose()
