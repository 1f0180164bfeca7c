"""A worker whose heartbeat is starved keeps its job; one that is really stuck loses it to
another worker, and the job still runs one worker at a time, ends once, with the right stems.

The starvation is made on purpose: the worker running the job is SIGSTOPped (every thread of it,
heartbeat included) for longer than its 1 s lease, then SIGCONTed, against a real server."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from riffroom.jobs.supervisor import STUCK_LEASES, STUCK_MIN_SECONDS

from tests.api.harness import ServerProcess, upload, wait_job, wait_until
from tests.fixtures.songs import synth_song, write_wav
from tests.reliability.chaos import overlapping_runs, salted, stem_hashes, supervisor_deaths, undisturbed_reference

LEASE_SECONDS = 1.0
SETTINGS: dict[str, Any] = {
    "dsp_chunk_seconds": 2.0,
    "progress_min_interval_seconds": 0.05,
    "lease_seconds": LEASE_SECONDS,
    "prerender_formats": "[]",
}
STUCK_SECONDS = max(STUCK_MIN_SECONDS, STUCK_LEASES * LEASE_SECONDS) + LEASE_SECONDS


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lease-song")
    return write_wav(root / "song.wav", synth_song(40.0, seed=21).mixture)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("leases"), workers=2, **SETTINGS)
    srv.root.mkdir(parents=True, exist_ok=True)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _lease_owner(srv: ServerProcess, job_id: str) -> str | None:
    db = sqlite3.connect(f"file:{srv.data_dir / 'riffroom.db'}?mode=ro", uri=True, timeout=30)
    try:
        row = db.execute("SELECT state, lease_owner FROM jobs WHERE id = ?", (job_id,)).fetchone()
    finally:
        db.close()
    return str(row[1]) if row is not None and row[0] == "running" and row[1] else None


def _final_events(srv: ServerProcess, job_id: str) -> list[str]:
    db = sqlite3.connect(f"file:{srv.data_dir / 'riffroom.db'}?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute(
            "SELECT type FROM job_events WHERE job_id = ? AND type IN ('done', 'failed', 'cancelled')", (job_id,)
        ).fetchall()
    finally:
        db.close()
    return [str(r[0]) for r in rows]


def _freeze_worker_of(srv: ServerProcess, job_id: str, seconds: float) -> str:
    """SIGSTOP the worker running `job_id` mid-separation for `seconds`, then SIGCONT it; its id."""
    with srv.client() as c:
        wait_until(lambda: c.get(f"/api/jobs/{job_id}").json()["stage"] == "separating", timeout=120)
    owner = _lease_owner(srv, job_id)
    assert owner is not None
    worker = next(w for w in srv.ready()["checks"]["workers"]["workers"] if w["id"] == owner)
    os.kill(worker["pid"], signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        try:
            os.kill(worker["pid"], signal.SIGCONT)
        except ProcessLookupError:  # the supervisor killed it as stuck
            pass
    return owner


def _separate(srv: ServerProcess, path: Path) -> tuple[str, str]:
    with srv.client() as c:
        song_id = upload(c, path).json()["id"]
        r = c.post(f"/api/songs/{song_id}/separations", json={"engine": "dsp"})
        assert r.status_code == 202, r.text
        return song_id, r.json()["id"]


def _no_overlap(srv: ServerProcess) -> None:
    log = srv.log_path.read_text(errors="replace")
    assert overlapping_runs(log, supervisor_deaths(log)) == []


def test_a_starved_worker_keeps_its_job(server: ServerProcess, song: Path, tmp_path: Path) -> None:
    """Frozen for 4 leases (its heartbeat with it): late, not lost. The job is not taken back."""
    restarts_before = server.ready()["checks"]["workers"]["restarts"]
    path = salted(song, tmp_path, "starved")
    song_id, job_id = _separate(server, path)
    owner = _freeze_worker_of(server, job_id, 4 * LEASE_SECONDS)
    with server.client() as c:
        job = wait_job(c, job_id, timeout=180)
        assert job["state"] == "done", job
        assert job["attempts"] == 1, job  # never taken from the worker that held it
        assert server.ready()["checks"]["workers"]["restarts"] == restarts_before
        assert any(w["id"] == owner and w["alive"] for w in server.ready()["checks"]["workers"]["workers"])
        with undisturbed_reference(tmp_path, **SETTINGS) as reference:
            assert stem_hashes(c, song_id) == reference(path)
    assert _final_events(server, job_id) == ["done"]
    _no_overlap(server)


def test_a_stuck_worker_loses_its_job_to_one_other_worker(server: ServerProcess, song: Path, tmp_path: Path) -> None:
    """Frozen past the stuck limit: killed, the job re-run by the other worker, ends once, right stems."""
    path = salted(song, tmp_path, "stuck")
    song_id, job_id = _separate(server, path)
    owner = _freeze_worker_of(server, job_id, STUCK_SECONDS + 2.0)
    with server.client() as c:
        job = wait_job(c, job_id, timeout=240)
        assert job["state"] == "done", job
        assert job["attempts"] == 2, job
        assert owner not in {w["id"] for w in server.ready()["checks"]["workers"]["workers"]}
        with undisturbed_reference(tmp_path, **SETTINGS) as reference:
            assert stem_hashes(c, song_id) == reference(path)
    assert _final_events(server, job_id) == ["done"]
    _no_overlap(server)
