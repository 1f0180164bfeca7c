"""Live job events over the WebSocket with real workers: snapshot, ordered seqs, exactly one final event."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.api.harness import ServerProcess, upload, wait_job
from tests.api.wsclient import collect_until_final, recv_json, ws_connect

FINALS = ("done", "failed", "cancelled")


def _job(srv: ServerProcess, path: Path, tmp_path: Path, salt: bytes) -> dict[str, Any]:
    copy = tmp_path / f"{salt.hex()}.mp3"
    copy.write_bytes(path.read_bytes() + salt)
    with srv.client() as c:
        song = upload(c, copy).json()
        return c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()  # type: ignore[no-any-return]


def test_subscribe_gets_snapshot_then_ordered_events_then_one_final(
    jobs_server: ServerProcess, long_mp3: Path, tmp_path: Path
) -> None:
    job = _job(jobs_server, long_mp3, tmp_path, b"ws-one")
    with ws_connect(jobs_server.ws_url) as ws:
        ws.send(json.dumps({"type": "subscribe", "jobs": [job["id"]]}))
        snap = recv_json(ws)
        assert snap["type"] == "snapshot" and snap["job"]["id"] == job["id"]
        assert set(snap["job"]) >= {"id", "song_id", "state", "progress", "stage", "eta_seconds", "error"}
        events = collect_until_final(ws, job["id"])
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs)) and seqs[0] > snap["seq"]
    progress = [e for e in events if e["type"] == "progress"]
    assert progress and {"job_id", "seq", "progress", "stage", "eta_seconds"} <= set(progress[0])
    assert [e["type"] for e in events].count("done") == 1
    assert events[-1]["job"]["state"] == "done"


def test_dropped_and_resumed_mid_job_misses_nothing_and_duplicates_no_final(
    jobs_server: ServerProcess, long_mp3: Path, tmp_path: Path
) -> None:
    job = _job(jobs_server, long_mp3, tmp_path, b"ws-resume")
    seen: list[dict[str, Any]] = []
    with ws_connect(jobs_server.ws_url) as ws:
        ws.send(json.dumps({"type": "subscribe", "jobs": [job["id"]]}))
        seen.append(recv_json(ws))
        while True:  # read until the job is well under way, then drop the connection
            msg = recv_json(ws)
            seen.append(msg)
            if msg["type"] == "progress" and msg["progress"] > 0.2:
                break
    last_seq = max(m["seq"] for m in seen)
    time.sleep(1.0)  # events happen while we are away
    with ws_connect(jobs_server.ws_url) as ws:
        ws.send(json.dumps({"type": "resume", "after": {job["id"]: last_seq}}))
        resumed = collect_until_final(ws, job["id"])
        final_seq = resumed[-1]["seq"]
    assert all(m["seq"] > last_seq for m in resumed)
    assert [m["type"] for m in seen + resumed if m["type"] in FINALS] == ["done"]
    with jobs_server.client() as c:
        assert wait_job(c, job["id"])["state"] == "done"
    # Resuming again after the final event: nothing is sent twice.
    with ws_connect(jobs_server.ws_url) as ws:
        ws.send(json.dumps({"type": "resume", "after": {job["id"]: final_seq}}))
        ws.send(json.dumps({"type": "ping"}))
        assert recv_json(ws)["type"] == "pong"
    # Resuming from before the final event after it happened: the final event, once.
    with ws_connect(jobs_server.ws_url) as ws:
        ws.send(json.dumps({"type": "resume", "after": {job["id"]: last_seq}}))
        msg = recv_json(ws)
        assert msg["type"] == "done" and msg["seq"] == final_seq
        ws.send(json.dumps({"type": "ping"}))
        assert recv_json(ws)["type"] == "pong"


def test_cancel_reaches_subscribers_as_one_cancelled_event(
    jobs_server: ServerProcess, long_mp3: Path, tmp_path: Path
) -> None:
    job = _job(jobs_server, long_mp3, tmp_path, b"ws-cancel")
    with ws_connect(jobs_server.ws_url) as ws, ws_connect(jobs_server.ws_url) as ws2:
        for w in (ws, ws2):
            w.send(json.dumps({"type": "subscribe", "jobs": [job["id"]]}))
            assert recv_json(w)["type"] == "snapshot"
        with jobs_server.client() as c:
            c.post(f"/api/jobs/{job['id']}/cancel")
        for w in (ws, ws2):
            events = collect_until_final(w, job["id"])
            assert [e["type"] for e in events if e["type"] in FINALS] == ["cancelled"]
