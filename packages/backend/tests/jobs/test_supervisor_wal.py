"""An idle embedded server gives back the SQLite WAL's high-water mark and its pooled connections;
a busy one does not try."""

from __future__ import annotations

from pathlib import Path

import psutil
from riffroom.config import Settings
from riffroom.jobs import store
from riffroom.jobs.supervisor import Supervisor
from riffroom.storage.db import Database

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
    assert not [f for f in psutil.Process().open_files() if f.path.startswith(str(tmp_path / "r.db"))]  # all closed
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
