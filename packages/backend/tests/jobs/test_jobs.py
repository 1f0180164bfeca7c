"""Durable jobs with real worker subprocesses: dedupe, crashes, timeouts, cancel, restarts."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from riffroom.jobs.core_share import CoreShare

from tests.api.harness import ServerProcess, run_server, upload, wait_job, wait_until
from tests.jobs import faulty_workers
from tests.jobs.dbpeek import query

DSP = {"engine": "dsp"}


def _new_song(srv: ServerProcess, path: Path, tmp_path: Path, salt: bytes) -> str:
    """Upload a copy of `path` with distinct content (so it is not a cache hit)."""
    copy = tmp_path / f"{salt.hex()}-{path.name}"
    copy.write_bytes(path.read_bytes() + salt)
    with srv.client() as c:
        r = upload(c, copy)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _start(srv: ServerProcess, song_id: str) -> dict:
    with srv.client() as c:
        r = c.post(f"/api/songs/{song_id}/separations", json=DSP)
    assert r.status_code in (200, 202), r.text
    return r.json()


def _worker_pid_of(srv: ServerProcess, job_id: str) -> int:
    sql = "SELECT lease_owner FROM jobs WHERE id=?"
    owner = wait_until(lambda: (query(srv.data_dir, sql, job_id) or [(None,)])[0][0])
    workers = {w["id"]: w["pid"] for w in srv.ready()["checks"]["workers"]["workers"]}
    return int(workers[owner])


def _running_with_progress(srv: ServerProcess, job_id: str, at_least: float = 0.1) -> dict:
    with srv.client() as c:
        return wait_until(
            lambda: (
                (j := c.get(f"/api/jobs/{job_id}").json())["state"] == "running" and j["progress"] >= at_least and j
            ),
            timeout=60,
        )


def test_twenty_identical_concurrent_requests_run_one_separation(
    jobs_server: ServerProcess, short_mp3: Path, tmp_path: Path
) -> None:
    song_id = _new_song(jobs_server, short_mp3, tmp_path, b"twenty")
    results: list[dict] = []
    barrier = threading.Barrier(20)

    def ask() -> None:
        with jobs_server.client() as c:
            barrier.wait()
            results.append(c.post(f"/api/songs/{song_id}/separations", json=DSP).json())

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {r["id"] for r in results}
    assert len(ids) == 1, ids
    job_id = ids.pop()
    with jobs_server.client() as c:
        assert wait_job(c, job_id)["state"] == "done"
        again = c.post(f"/api/songs/{song_id}/separations", json=DSP)
        assert again.status_code == 200 and again.json()["id"] == job_id, "a finished job answers at once"
    assert query(jobs_server.data_dir, "SELECT COUNT(*) FROM jobs WHERE song_id=?", song_id)[0][0] == 1
    assert query(jobs_server.data_dir, "SELECT attempts FROM jobs WHERE id=?", job_id)[0][0] == 1


def test_worker_killed_mid_job_is_replaced_and_the_job_completes(
    jobs_server: ServerProcess, long_mp3: Path, tmp_path: Path
) -> None:
    song_id = _new_song(jobs_server, long_mp3, tmp_path, b"kill9")
    job = _start(jobs_server, song_id)
    _running_with_progress(jobs_server, job["id"])
    pid = _worker_pid_of(jobs_server, job["id"])
    os.kill(pid, signal.SIGKILL)
    with jobs_server.client() as c:
        done = wait_job(c, job["id"], timeout=180)
        assert done["state"] == "done", done
        assert done["attempts"] == 2
        assert c.get(f"/api/songs/{song_id}/stems/vocals").status_code == 200
    workers = jobs_server.ready()["checks"]["workers"]
    assert workers["alive"] == 2 and pid not in [w["pid"] for w in workers["workers"]]


def test_the_workers_run_on_jemalloc_with_mkl_dispatch(jobs_server: ServerProcess) -> None:
    """The supervisor starts its workers with jemalloc preloaded (allocator.py), and on a CPU
    not made by Intel with MKL's dispatch library (mkl_dispatch.py): mapped in every live worker."""
    from riffroom import allocator, mkl_dispatch

    library = allocator.jemalloc_library()
    assert library is not None
    dispatch = mkl_dispatch.library(jobs_server.env())
    assert (dispatch is not None) == mkl_dispatch.needed({})
    pids = jobs_server.worker_pids()
    assert pids
    for pid in pids:
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert library in maps, f"worker {pid} runs on glibc's malloc"
        assert dispatch is None or dispatch in maps, f"worker {pid} lets MKL choose by vendor"


def test_a_running_job_marks_its_worker_busy_for_the_core_share(
    jobs_server: ServerProcess, long_mp3: Path, tmp_path: Path
) -> None:
    """What a job's engine asks before each batch: its worker's lock is held while the job runs
    (one busy worker of two: a lone job may use every core) and let go when it ends."""
    share = CoreShare(jobs_server.data_dir / "run" / "busy", "probe", cores=2)
    song_id = _new_song(jobs_server, long_mp3, tmp_path, b"share")
    job = _start(jobs_server, song_id)
    _running_with_progress(jobs_server, job["id"])
    assert share.busy_workers() == 1 and share.cores_now() == 2
    with jobs_server.client() as c:
        assert wait_job(c, job["id"], timeout=180)["state"] == "done"
    wait_until(lambda: share.busy_workers() == 0, timeout=30)
    assert not list(share.directory.glob("*.busy")), "no file is left behind"


def test_cancel_mid_job_stops_it_and_serves_no_stems(
    jobs_server: ServerProcess, long_mp3: Path, tmp_path: Path
) -> None:
    staging = jobs_server.root / "cache" / "tmp"
    before = set(staging.iterdir())  # a killed worker (earlier test) leaves its staging dir for the sweeper
    song_id = _new_song(jobs_server, long_mp3, tmp_path, b"cancel")
    job = _start(jobs_server, song_id)
    _running_with_progress(jobs_server, job["id"])
    with jobs_server.client() as c:
        assert c.post(f"/api/jobs/{job['id']}/cancel").status_code == 202
        final = wait_job(c, job["id"], timeout=30)
        assert final["state"] == "cancelled"
        stem = c.get(f"/api/songs/{song_id}/stems/vocals")
        assert stem.status_code == 404 and stem.json()["error"]["code"] == "no_stems"
        assert c.get(f"/api/songs/{song_id}").json()["stems"] == []
    wait_until(lambda: set(staging.iterdir()) <= before, timeout=10)


def test_cancel_queued_job_is_immediate(jobs_server: ServerProcess, long_mp3: Path, tmp_path: Path) -> None:
    # Occupy both workers, then queue a third job and cancel it before it starts.
    busy = [_start(jobs_server, _new_song(jobs_server, long_mp3, tmp_path, bytes([i]) * 3)) for i in range(2)]
    queued = _start(jobs_server, _new_song(jobs_server, long_mp3, tmp_path, b"queued"))
    with jobs_server.client() as c:
        r = c.post(f"/api/jobs/{queued['id']}/cancel")
        assert r.json()["state"] in ("cancelled", "running")
        assert wait_job(c, queued["id"], timeout=30)["state"] == "cancelled"
        for b in busy:
            c.post(f"/api/jobs/{b['id']}/cancel")
            wait_job(c, b["id"], timeout=30)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_server_stopped_mid_job_resumes_it_after_restart(tmp_path: Path, long_mp3: Path, sig: int) -> None:
    with run_server(tmp_path / "srv", workers=1, dsp_chunk_seconds=5.0) as srv:
        song_id = _new_song(srv, long_mp3, tmp_path, b"restart")
        job = _start(srv, song_id)
        _running_with_progress(srv, job["id"])
        worker = _worker_pid_of(srv, job["id"])
        srv.stop(sig)
        wait_until(lambda: not _alive(worker), timeout=10)  # workers die with their server
        srv.start()
        with srv.client() as c:
            done = wait_job(c, job["id"], timeout=180)
        assert done["state"] == "done", done
        assert done["attempts"] == 1, "a restart is not the job's fault"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # reaped between the two looks
        return False


def test_job_that_always_crashes_fails_after_max_attempts(tmp_path: Path, short_mp3: Path) -> None:
    with run_server(tmp_path / "srv", workers=1, launcher=faulty_workers.launcher("crash"), job_max_attempts=3) as srv:
        song_id = _new_song(srv, short_mp3, tmp_path, b"crash")
        job = _start(srv, song_id)
        with srv.client() as c:
            final = wait_job(c, job["id"], timeout=90)
        assert final["state"] == "failed" and final["error_code"] == "worker_crashed"
        assert final["attempts"] == 3 and "3 attempts" in final["error"]
        wait_until(lambda: srv.ready()["checks"]["workers"]["alive"] == 1, timeout=30)
        assert srv.ready()["checks"]["workers"]["restarts"] >= 3


@pytest.mark.parametrize("case", ["timeout", "cancel_grace"])
def test_stuck_worker_is_killed_and_replaced(tmp_path: Path, short_mp3: Path, case: str) -> None:
    with run_server(
        tmp_path / "srv",
        workers=1,
        launcher=faulty_workers.launcher("hang"),
        job_timeout_min_seconds=4,
        job_timeout_factor=0,
        cancel_grace_seconds=1,
    ) as srv:
        song_id = _new_song(srv, short_mp3, tmp_path, case.encode())
        job = _start(srv, song_id)
        with srv.client() as c:
            wait_until(lambda: c.get(f"/api/jobs/{job['id']}").json()["state"] == "running", timeout=30)
            pid = _worker_pid_of(srv, job["id"])
            if case == "cancel_grace":
                c.post(f"/api/jobs/{job['id']}/cancel")
            final = wait_job(c, job["id"], timeout=60)
        if case == "timeout":
            assert final["state"] == "failed" and final["error_code"] == "timeout", final
        else:
            assert final["state"] == "cancelled", final
        wait_until(lambda: not _alive(pid), timeout=10)
        # The health check may count the killed worker alive for a moment (Popen.poll answers None
        # while the supervisor's own wait on it holds its lock): replaced means one other pid, alive.
        wait_until(lambda: (pids := srv.worker_pids()) and pid not in pids and len(pids) == 1, timeout=30)
