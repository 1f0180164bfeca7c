"""Following a job over the WebSocket counts as listening: it is claimed first in its owner's turn."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.harness import ServerProcess, upload, wait_job, wait_until
from tests.api.songfiles import salted_copy
from tests.api.wsclient import recv_json, ws_connect
from tests.jobs.dbpeek import query


def test_a_followed_job_is_claimed_before_an_older_one_of_the_same_owner(short_mp3: Path, tmp_path: Path) -> None:
    root = tmp_path / "srv"
    root.mkdir()
    queued = ServerProcess(root, workers=0).start()  # nobody claims yet
    try:
        with queued.client() as c:
            jobs = []
            for salt in (b"older", b"followed"):
                song = upload(c, salted_copy(short_mp3, tmp_path, salt))
                assert song.status_code == 201, song.text
                r = c.post(f"/api/songs/{song.json()['id']}/separations", json={"engine": "dsp"})
                assert r.status_code == 202, r.text
                jobs.append(r.json()["id"])
        older, followed = jobs
        with ws_connect(queued.ws_url) as ws:
            ws.send(json.dumps({"type": "subscribe", "jobs": [followed]}))
            snapshot = recv_json(ws)
            assert snapshot["type"] == "snapshot" and snapshot["job"]["state"] == "queued", snapshot
            wait_until(lambda: query(queued.data_dir, "SELECT listening_at FROM jobs WHERE id=?", followed)[0][0])
        [(older_listening,)] = query(queued.data_dir, "SELECT listening_at FROM jobs WHERE id=?", older)
        assert older_listening is None, "only the followed job is marked"
    finally:
        queued.stop()
    worker = ServerProcess(root, workers=1).start()  # one worker: it claims one job at a time
    try:
        with worker.client() as c:
            for job_id in jobs:
                assert wait_job(c, job_id, timeout=120)["state"] == "done"
        started = dict(query(worker.data_dir, "SELECT id, started_at FROM jobs"))
        assert started[followed] < started[older], "the followed job went first"
        assert wait_until(lambda: list((root / "cache" / "tmp").iterdir()) == [], timeout=10), (
            "no decode spool or staging dir is left once the jobs are done"
        )
    finally:
        worker.stop()
