"""Fair scheduling against a real server: a user who queues a backlog does not starve another user."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import httpx

from tests.api.accounts import add_user, login
from tests.api.harness import run_server, upload, wait_job
from tests.api.songfiles import make_song, salted_copy

BACKLOG = 8


def _states(client: httpx.Client, jobs: list[str]) -> list[str]:
    return [client.get(f"/api/jobs/{j}").json()["state"] for j in jobs]


def test_a_backlog_of_one_user_does_not_starve_another(tmp_path: Path) -> None:
    song_file = make_song(tmp_path, 30.0, "mp3", seed=5)  # long enough that the backlog is still there
    with run_server(tmp_path / "srv", workers=1, auth="required", quota_active_jobs=0, quota_songs=0) as srv:
        add_user(srv, "ana")
        add_user(srv, "bob")
        with closing(login(srv, "ana")) as ana, closing(login(srv, "bob")) as bob:
            ana_jobs = []
            for i in range(BACKLOG):
                song = upload(ana, salted_copy(song_file, tmp_path, bytes([1, i]))).json()
                r = ana.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"})
                assert r.status_code == 202, r.text
                ana_jobs.append(r.json()["id"])
            song = upload(bob, salted_copy(song_file, tmp_path, b"\x02")).json()
            r = bob.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"})
            assert r.status_code == 202, r.text
            before = _states(ana, ana_jobs)
            assert before.count("queued") >= 3, f"the backlog drained before bob asked: {before}"
            bob_done = wait_job(bob, r.json()["id"], timeout=300)
            assert bob_done["state"] == "done", bob_done
            after = _states(ana, ana_jobs)
            # One worker: only the job running when bob asked (and at most one more claimed in that
            # instant) may finish before bob's; FIFO would run the whole backlog first.
            assert after.count("done") <= before.count("done") + 2, (before, after)
            for j in ana_jobs:  # and the backlog still completes
                assert wait_job(ana, j, timeout=300)["state"] == "done"
