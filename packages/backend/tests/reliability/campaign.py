"""One embedded chaos run: a real server with 2 workers, songs uploaded and separated while
workers and the server are SIGKILLed at random moments and the data disk fills up. Used by
test_chaos_fast.py (a few faults) and bench/chaos (the full counts).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.api.harness import ServerProcess, wait_job
from tests.reliability.chaos import Run, Tally, salted, stray_processes
from tests.reliability.disk import filled, small_disk
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
    rng.shuffle(plan)
    for fault in plan:
        with run.srv.client() as c:
            if fault == "disk":
                _fill_disk_once(run, follower, c, next_song, rng)
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


def _fill_disk_once(run: Run, follower: Follower, c: object, next_song: object, rng: random.Random) -> None:
    """Fill the data disk during an upload and a separation, then give the space back."""
    import httpx

    assert isinstance(c, httpx.Client) and callable(next_song)
    ready = run.upload(c, next_song())
    assert ready is not None
    for job_id in run.jobs:  # jobs still running would free space (their spool) or fail with it
        wait_job(c, job_id, timeout=180)
    disk = run.srv.data_dir.parent
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
