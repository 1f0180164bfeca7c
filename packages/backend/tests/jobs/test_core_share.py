"""Core sharing between a host's workers: a lone job gets every core, busy workers split them,
and a worker killed in a job stops counting (the kernel drops its lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from riffroom.jobs import core_share
from riffroom.jobs.core_share import CoreShare


def test_a_lone_job_gets_every_core_and_busy_workers_share_them(tmp_path: Path) -> None:
    a, b = CoreShare(tmp_path, "node-0-1", cores=4), CoreShare(tmp_path, "node-1-2", cores=4)
    assert a.busy_workers() == 0
    with a.busy():
        assert (a.busy_workers(), a.cores_now()) == (1, 4)
        with b.busy():
            assert (a.cores_now(), b.cores_now()) == (2, 2)
        assert a.cores_now() == 4
    assert a.busy_workers() == 0
    assert list(tmp_path.iterdir()) == [], "a worker leaves no file after its job"


def test_three_busy_workers_on_two_cores_get_one_each(tmp_path: Path) -> None:
    shares = [CoreShare(tmp_path, f"n-{i}-1", cores=2) for i in range(3)]
    with shares[0].busy(), shares[1].busy(), shares[2].busy():
        assert [s.cores_now() for s in shares] == [1, 1, 1]


def test_a_worker_killed_in_a_job_stops_counting_and_its_file_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = (
        "import sys, time; from pathlib import Path; from riffroom.jobs.core_share import CoreShare\n"
        "with CoreShare(Path(sys.argv[1]), 'node-1-7', cores=4).busy():\n"
        "    print('busy', flush=True); time.sleep(600)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "busy"
        mine = CoreShare(tmp_path, "node-0-1", cores=4)
        with mine.busy():
            assert mine.cores_now() == 2
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
            assert mine.cores_now() == 4, "a dead worker's lock is gone with it"
            assert (tmp_path / "node-1-7.busy").exists(), "a young unlocked file may be a worker about to lock it"
            monkeypatch.setattr(core_share, "STALE_AFTER_SECONDS", 0.0)
            time.sleep(0.01)
            assert mine.cores_now() == 4
            assert not (tmp_path / "node-1-7.busy").exists(), "an old unlocked file is removed"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize(
    ("workers", "torch_threads", "expected"),
    [(2, 0, ("1", str(core_share.host_cores()))), (1, 0, ("0", None)), (2, 1, ("1", None))],
)
def test_the_supervisor_lets_a_worker_beside_others_use_every_core_when_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int, torch_threads: int, expected: tuple
) -> None:
    """Several workers: one torch thread each, window threads for every core (shared through
    CoreShare). One worker: torch's default. Threads set by the operator: as set, no sharing."""
    from riffroom.config import WINDOW_THREADS_ENV, Settings
    from riffroom.jobs.supervisor import Supervisor
    from riffroom.storage.db import Database

    monkeypatch.delenv(WINDOW_THREADS_ENV, raising=False)
    settings = Settings(data_dir=tmp_path, cache_dir=tmp_path / "c", workers=workers, torch_threads=torch_threads)
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        env = Supervisor(settings, db)._worker_env()
    finally:
        db.dispose()
    assert (env["RIFFROOM_TORCH_THREADS"], env.get(WINDOW_THREADS_ENV)) == expected
