"""One embedded chaos run: a real server with 2 workers, songs uploaded and separated while
workers and the server are SIGKILLed at random moments, the data disk fills up and the database
stays locked past its busy timeout. Used by
test_chaos_fast.py (a few faults) and bench/chaos (the full counts).
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.api.harness import ServerProcess, upload, wait_job
from tests.reliability.chaos import Run, Tally, salted, stray_processes
from tests.reliability.disk import filled, free_bytes, small_disk
from tests.reliability.follower import Follower

SERVER_SETTINGS: dict[str, Any] = {
    "dsp_chunk_seconds": 2.0,
    "progress_min_interval_seconds": 0.05,
    "lease_seconds": 3.0,
    "job_max_attempts": 3,
    "prerender_formats": "[]",
}


@dataclass
class Faults:
    worker_kills: int = 5
    server_kills: int = 1
    disk_fills: int = 1
    db_locks: int = 1


DB_BUSY_TIMEOUT_SECONDS = 2.0  # the disturbed server's: a lock held past it is cheap to make


def embedded_run(
    root: Path, song: Path, reference: Callable[[Path], dict[str, str]], faults: Faults, seed: int
) -> Tally:
    """One server's run with `faults`, checked afterwards; its tally."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    with small_disk(root / "disk", 512 * 2**20) as disk:
        srv = ServerProcess(
            root,
            workers=2,
            database_url=f"sqlite:///{root / 'riffroom.db'}",
            cache_dir=str(disk / "cache"),
            db_busy_timeout_seconds=DB_BUSY_TIMEOUT_SECONDS,
            **SERVER_SETTINGS,
        )
        srv.data_dir = disk / "data"
        run = Run(srv, disk / "cache", root / "riffroom.db")
        srv.start()
        try:
            with Follower(lambda: srv.ws_url) as follower:
                _inject(run, follower, song, root, faults, rng)
                run.check(follower, reference)
        finally:
            srv.stop()
        run.tally.leftovers += stray_processes(root)
    return run.tally


def _inject(run: Run, follower: Follower, song: Path, root: Path, faults: Faults, rng: random.Random) -> None:
    n = 0

    def next_song() -> Path:
        nonlocal n
        n += 1
        return salted(song, root, f"s{n}")

    plan = ["worker"] * faults.worker_kills + ["server"] * faults.server_kills + ["disk"] * faults.disk_fills
    plan += ["db"] * faults.db_locks
    rng.shuffle(plan)
    for fault in plan:
        with run.srv.client() as c:
            if fault == "disk":
                _fill_disk_once(run, follower, c, next_song, rng)
                continue
            if fault == "db":
                _lock_database_once(run, follower, c, next_song(), next_song(), rng)
                continue
            song_info = run.upload(c, next_song())
            assert song_info is not None
            job_id = run.separate(c, song_info["id"], follower)
            if fault == "worker":
                run.kill_worker_of(c, job_id, rng)
                continue
        with run.srv.client() as c:  # server: mid-upload or mid-job, at random
            if rng.random() < 0.5:
                wait_job(c, job_id, ("running",), timeout=60)
        run.kill_server("server SIGKILL + restart mid-job")


def _until_settled(disk: Path, quiet_seconds: float = 1.0, timeout: float = 30.0) -> None:
    """Wait until the disk's free space has not changed for `quiet_seconds` (or `timeout` passed)."""
    deadline = time.monotonic() + timeout
    last, since = free_bytes(disk), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_seconds:
        time.sleep(0.1)
        now = free_bytes(disk)
        if now != last:
            last, since = now, time.monotonic()


def _fill_disk_once(
    run: Run, follower: Follower, c: httpx.Client, next_song: Callable[[], Path], rng: random.Random
) -> None:
    """Fill the data disk during an upload and a separation, then give the space back."""
    ready = run.upload(c, next_song())
    assert ready is not None
    for job_id in run.jobs:  # jobs still running would free space (their spool) or fail with it
        wait_job(c, job_id, timeout=180)
    disk = run.srv.data_dir.parent
    # A job's worker removes its decode spool and partial stems just after the job ends: tens of MB
    # freed under a filled disk, into which an upload could slip before the filler takes them back.
    _until_settled(disk)
    with filled(disk, leave=rng.randint(64, 1024) * 1024):
        run.tally.faults["data disk full"] += 1
        refused = run.upload(c, next_song())  # None: 507 insufficient_storage
        if refused is not None:
            run.tally.problems.append("an upload onto a full disk was accepted")
        job_id = run.separate(c, ready["id"], follower)
        job = wait_job(c, job_id, timeout=120)
        if job["state"] != "failed" or job.get("error_code") != "insufficient_storage":
            run.tally.problems.append(f"a separation onto a full disk ended {job['state']} {job.get('error_code')}")
        run.jobs.pop(job_id)  # it ended as it should; its final event is counted below
        if not follower.wait_finals([job_id], timeout=30) or follower.finals[job_id] != 1:
            run.tally.final_events_wrong += 1
    retried = run.separate(c, ready["id"], follower)  # space is back: the same request now succeeds
    assert retried


def _lock_database_once(
    run: Run, follower: Follower, c: httpx.Client, first: Path, second: Path, rng: random.Random
) -> None:
    """Hold the SQLite file locked past busy_timeout while a job runs: an upload meanwhile gets 503
    with Retry-After (never a 500), the job carries on once the lock is gone, the retry succeeds."""
    song = run.upload(c, first)
    assert song is not None
    job_id = run.separate(c, song["id"], follower)
    with contextlib.suppress(AssertionError):  # a short job may be done already: the lock still counts
        wait_job(c, job_id, ("running", "done"), timeout=60)
    time.sleep(rng.uniform(0.0, 0.5))
    hold = DB_BUSY_TIMEOUT_SECONDS + rng.uniform(0.5, 3.0)
    holder = sqlite3.connect(run.db_path, isolation_level=None, timeout=30)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        locked_at = time.monotonic()
        run.tally.faults["database locked past busy_timeout"] += 1
        r = upload(c, second)
        if r.status_code != 503 or not r.headers.get("Retry-After"):
            run.tally.problems.append(f"an upload onto a locked database got {r.status_code}, not 503")
        time.sleep(max(0.0, hold - (time.monotonic() - locked_at)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run.upload(c, second) is not None  # Retry-After honoured: the same upload now succeeds
