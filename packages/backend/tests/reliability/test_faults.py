"""Faults answered well, against a real server: a full disk, a database locked past its busy
timeout. (Lost Redis and PostgreSQL connections: test_reconnect.py.)"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.harness import ServerProcess, upload, wait_job
from tests.api.songfiles import make_song, salted_copy
from tests.reliability.disk import files_under, filled, small_disk

DISK_BYTES = 128 * 2**20


@pytest.fixture(scope="module")
def disk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Songs, temp uploads and stems on a 128 MB filesystem; the database on the ordinary disk, so
    only the writes this module fills the disk against fail."""
    root = tmp_path_factory.mktemp("full-disk")
    with small_disk(root / "disk", DISK_BYTES) as disk:
        srv = ServerProcess(
            root,
            workers=1,
            database_url=f"sqlite:///{root / 'riffroom.db'}",
            cache_dir=str(disk / "cache"),
            dsp_chunk_seconds=2.0,
            prerender_formats="[]",
        )
        srv.data_dir = disk / "data"
        srv.start()
        try:
            yield srv
        finally:
            srv.stop()


def _disk(srv: ServerProcess) -> Path:
    return srv.data_dir.parent


def test_full_disk_upload_gets_507_leaves_nothing_and_recovers(disk_server: ServerProcess, tmp_path: Path) -> None:
    song = make_song(tmp_path, 20.0, "wav", seed=4)  # ~3.5 MB
    with disk_server.client() as c, filled(_disk(disk_server), leave=512 * 1024):
        r = upload(c, song)
        assert r.status_code == 507, r.text
        error = r.json()["error"]
        assert error["code"] == "insufficient_storage"
        assert "disk is full" in error["message"] and "try again" in error["message"]
        assert files_under(disk_server.data_dir / "tmp") == []  # the partial upload is gone
        assert files_under(disk_server.data_dir / "blobs" / "songs") == []
        assert c.get("/api/songs").json()["songs"] == []
        assert c.get("/health/live").status_code == 200
    with disk_server.client() as c:  # space is back: the same server takes the same upload
        r = upload(c, song)
        assert r.status_code == 201, r.text
        assert c.get(f"/api/songs/by-hash/{r.json()['sha256']}").status_code == 200


def test_separation_out_of_space_fails_with_the_code_and_writes_nothing(
    disk_server: ServerProcess, tmp_path: Path
) -> None:
    song_file = salted_copy(make_song(tmp_path, 20.0, "mp3", seed=5), tmp_path, b"sep")
    cache = disk_server.root / "disk" / "cache"
    with disk_server.client() as c:
        song = upload(c, song_file).json()
        with filled(_disk(disk_server), leave=1024 * 1024):  # 4 float stems of 20 s need ~28 MB
            job = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
            failed = wait_job(c, job["id"], timeout=120)
            assert failed["state"] == "failed", failed
            assert failed["error_code"] == "insufficient_storage", failed
            assert "disk is full" in failed["error"]
            assert files_under(cache / "tmp") == []  # no partial stems in staging
            assert files_under(cache / "objects") == []  # and nothing published
            r = c.get(f"/api/songs/{song['id']}/stems/vocals")
            assert r.json()["error"]["code"] == "no_stems", r.text  # nothing half-done is served
        again = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"})
        assert again.status_code == 202, again.text
        done = wait_job(c, again.json()["id"], timeout=180)
        assert done["state"] == "done", done
        r = c.get(f"/api/songs/{song['id']}/stems/vocals", headers={"Range": "bytes=0-3"})
        assert r.status_code == 206 and r.content == b"RIFF"


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("locked-db"), workers=0, db_busy_timeout_seconds=0.3)
    srv.root.mkdir(parents=True, exist_ok=True)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_database_locked_past_busy_timeout_gives_503_with_retry_after(
    locked_server: ServerProcess, tmp_path: Path
) -> None:
    song_file = make_song(tmp_path, 4.0, "mp3", seed=6)
    with locked_server.client() as c:
        song = upload(c, song_file).json()
        holder = sqlite3.connect(locked_server.data_dir / "riffroom.db", isolation_level=None, timeout=5)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            answers = [
                c.patch(f"/api/songs/{song['id']}", json={"name": "renamed"}),
                c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}),
                upload(c, salted_copy(song_file, tmp_path, b"locked")),
                c.put(f"/api/songs/{song['id']}/practice", json={"revision": 0, "state": {}}),
            ]
            for r in answers:
                assert r.status_code == 503, (r.request.method, r.request.url, r.status_code, r.text)
                assert r.json()["error"]["code"] == "unavailable"
                assert int(r.headers["Retry-After"]) >= 1
            assert c.get(f"/api/songs/{song['id']}").status_code == 200  # WAL: readers go on reading
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        r = c.patch(f"/api/songs/{song['id']}", json={"name": "renamed"})  # the lock is gone: so is the 503
        assert r.status_code == 200 and r.json()["name"] == "renamed"
        assert upload(c, salted_copy(song_file, tmp_path, b"locked")).status_code == 201
        assert files_under(locked_server.data_dir / "tmp") == []
    assert " 500 " not in (locked_server.root / "server.log").read_text(errors="replace")


def test_a_job_outlives_a_database_locked_past_busy_timeout(tmp_path: Path) -> None:
    """The worker's progress steps fail while the lock is held: they are skipped, the end-of-job
    write waits for the lock to go, and the job ends `done` instead of `failed internal`."""
    srv = ServerProcess(tmp_path / "srv", workers=1, db_busy_timeout_seconds=0.3, dsp_chunk_seconds=1.0)
    srv.root.mkdir(parents=True, exist_ok=True)
    srv.start()
    try:
        with srv.client() as c:
            song = upload(c, make_song(tmp_path, 60.0, "wav", seed=8)).json()
            job = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
            wait_job(c, job["id"], ("running",), timeout=60)
            holder = sqlite3.connect(srv.data_dir / "riffroom.db", isolation_level=None, timeout=5)
            try:
                holder.execute("BEGIN EXCLUSIVE")
                time.sleep(2.0)  # past the busy timeout many times over, for reports and the lease
                felt = _until_logged(srv, "the database is busy or unreachable", timeout=60)
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            assert felt, "the worker never met the lock: nothing was tested"
            done = wait_job(c, job["id"], timeout=120)
            assert done["state"] == "done", done
            assert done["ready_seconds"] == pytest.approx(60.0, abs=0.05)
    finally:
        srv.stop()
    log_text = srv.log_path.read_text(errors="replace")
    assert "failed unexpectedly" not in log_text and " 500 " not in log_text


def _until_logged(srv: ServerProcess, text: str, *, timeout: float) -> bool:
    """Wait for the server's log to say `text`: on a loaded machine a chunk can outlast a short
    lock, so the lock is held until the worker has really met it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in srv.log_path.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def test_stem_writer_on_a_full_disk_raises_enospc_and_recovers(tmp_path: Path) -> None:
    """libsndfile says only "System error" on ENOSPC: the writer must say disk full, so the job
    fails `insufficient_storage` (errors.is_disk_full) rather than `internal`."""
    import numpy as np
    from riffroom.audio.encode import StemWriter
    from riffroom.errors import is_disk_full

    block = np.zeros((2, 44100), dtype=np.float32)  # 352 kB a second of float stereo
    with small_disk(tmp_path / "tiny", 4 * 2**20) as disk:
        with filled(disk, leave=600 * 1024):
            writer = StemWriter(disk / "vocals.wav")
            with pytest.raises(OSError) as caught:
                for _ in range(50):
                    writer.write(block)
                writer.close()
            assert is_disk_full(caught.value), repr(caught.value)
            try:  # closing the half-written file is either quiet or says disk full too
                writer.close()
            except OSError as exc:
                assert is_disk_full(exc), repr(exc)
            (disk / "vocals.wav").unlink()
        writer = StemWriter(disk / "vocals.wav")  # space is back: the same write succeeds
        for _ in range(5):
            writer.write(block)
        writer.close()
        assert (disk / "vocals.wav").stat().st_size > 5 * block.nbytes
