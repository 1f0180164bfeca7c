"""The scale-out shape end to end: 2 API nodes + 2 `riffroom worker` hosts on real Redis,
PostgreSQL and an S3 server (moto), each a separate process; dsp engine.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests import services
from tests.api.harness import ServerProcess, _die_with_parent, upload, wait_job, wait_until
from tests.api.songfiles import make_song
from tests.api.wsclient import collect_until_final, recv_json, ws_connect

FINALS = ("done", "failed", "cancelled")


class WorkerHost(ServerProcess):
    """`riffroom worker --processes 1` in a subprocess, with the same settings as the API nodes."""

    node = ""

    def start(self, timeout: float = 60.0) -> WorkerHost:
        self.root.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "riffroom.cli", "worker", "--processes", "1", "--data-dir", str(self.data_dir)]
        log = open(self.log_path, "ab")
        start_at = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.proc = subprocess.Popen(
            cmd, env=self.env(), stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            text = self.log_path.read_text(errors="replace")[start_at:]
            found = re.search(r"worker host ([0-9a-f]{8})", text)
            if found and "ready (pid" in text:
                self.node = found.group(1)
                return self
            time.sleep(0.1)
        raise RuntimeError(f"worker did not come up:\n{self.log()}")


@dataclass
class Cluster:
    apis: list[ServerProcess]
    workers: list[WorkerHost]
    pg_url: str

    def job_row(self, job_id: str) -> dict[str, Any]:
        with psycopg.connect(self.pg_url) as conn:
            cur = conn.execute("SELECT state, attempts, lease_owner, seq FROM jobs WHERE id = %s", (job_id,))
            row = cur.fetchone()
        assert row is not None
        return dict(zip(("state", "attempts", "lease_owner", "seq"), row, strict=True))

    def scalar(self, sql: str, *args: Any) -> Any:
        with psycopg.connect(self.pg_url) as conn:
            row = conn.execute(sql, args).fetchone()
        return None if row is None else row[0]


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, postgres_admin_url: str, s3_endpoint: str
) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    pg_url = services.create_database(postgres_admin_url, f"cluster_{uuid.uuid4().hex[:8]}")
    bucket = f"cluster-{uuid.uuid4().hex[:8]}"
    services.create_bucket(s3_endpoint, bucket)
    settings = {
        "queue_url": redis_url,
        "queue_name": f"jobs-{uuid.uuid4().hex[:8]}",
        "database_url": pg_url,
        "blob_url": f"s3://{bucket}/riffroom",
        "s3_endpoint_url": s3_endpoint,
        "s3_access_key_id": services.S3_KEY,
        "s3_secret_access_key": services.S3_SECRET,
        "dsp_chunk_seconds": 5.0,
        "progress_min_interval_seconds": 0.05,
        "lease_seconds": 3.0,
        "worker_presence_seconds": 0.5,
    }
    apis = [ServerProcess(root / f"api{i}", workers=0, **settings) for i in (1, 2)]
    workers = [WorkerHost(root / f"worker{i}", **settings) for i in (1, 2)]
    try:
        for node in apis:
            node.root.mkdir(parents=True, exist_ok=True)
            node.start()
        for w in workers:
            w.start()
        yield Cluster(apis, workers, pg_url)
    finally:
        for proc in [*apis, *workers]:
            proc.stop()


@pytest.fixture(scope="module")
def songs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cluster-songs")


def _song(directory: Path, seconds: float, salt: str) -> Path:
    base = make_song(directory, seconds, "mp3", seed=3)
    copy = directory / f"{salt}.mp3"
    copy.write_bytes(base.read_bytes() + salt.encode())  # new content, same audio
    return copy


def _separate(node: ServerProcess, song_id: str) -> dict[str, Any]:
    with node.client() as c:
        r = c.post(f"/api/songs/{song_id}/separations", json={"engine": "dsp"})
    assert r.status_code in (200, 202), r.text
    return r.json()  # type: ignore[no-any-return]


def _hosts_seen(node: ServerProcess) -> dict[str, int]:
    workers = node.ready()["checks"]["workers"]
    return {h["node"]: h["alive"] for h in workers["hosts"]}


def test_every_api_node_counts_the_worker_hosts(cluster: Cluster) -> None:
    """/health/ready on an API node reports the remote worker hosts, and notices one that stops."""
    expected = {w.node: 1 for w in cluster.workers}
    for node in cluster.apis:
        wait_until(lambda node=node: _hosts_seen(node) == expected, timeout=10)
        workers = node.ready()["checks"]["workers"]
        assert workers["alive"] == 2 and workers["wanted"] == 2
    leaving = cluster.workers[1]
    leaving.stop()
    try:
        for node in cluster.apis:
            wait_until(lambda node=node: set(_hosts_seen(node)) == {cluster.workers[0].node}, timeout=10)
        ready = cluster.apis[0].ready()
        assert ready["status"] == "ready"  # an API node still serves songs and cached stems
    finally:
        leaving.start()
    wait_until(lambda: cluster.apis[0].ready()["checks"]["workers"]["alive"] == 2, timeout=10)


def test_uploads_through_either_node_separate_and_progress_reaches_the_other_node(
    cluster: Cluster, songs: Path
) -> None:
    a, b = cluster.apis
    for first, other, salt in ((a, b, "via-a"), (b, a, "via-b")):
        with first.client() as c:
            song = upload(c, _song(songs, 60.0, salt)).json()
        with ws_connect(other.ws_url) as ws:
            job = _separate(first, song["id"])
            ws.send(json.dumps({"type": "subscribe", "jobs": [job["id"]]}))
            snap = recv_json(ws)
            assert snap["type"] == "snapshot"
            events = collect_until_final(ws, job["id"])
        kinds = [e["type"] for e in events]
        assert "progress" in kinds, kinds
        assert kinds.count("done") == 1 and kinds[-1] == "done"
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(set(seqs))
        # The stems stream from the S3 store through the node that did not see the job start.
        with other.client() as c:
            r = c.get(f"/api/songs/{song['id']}/stems/vocals", headers={"Range": "bytes=0-99"})
            assert r.status_code == 206, r.text
            assert len(r.content) == 100 and r.content[:4] == b"RIFF"


def test_killed_worker_host_job_is_finished_by_the_other(cluster: Cluster, songs: Path) -> None:
    a, _ = cluster.apis
    with a.client() as c:
        song = upload(c, _song(songs, 120.0, "kill")).json()
        job = _separate(a, song["id"])
        wait_until(lambda: c.get(f"/api/jobs/{job['id']}").json()["progress"] > 0.1, timeout=120)
    owner = cluster.job_row(job["id"])["lease_owner"]
    victim = next(w for w in cluster.workers if owner and owner.startswith(w.node))
    os.kill(victim.pid, signal.SIGKILL)  # its worker subprocess dies with it (PDEATHSIG)
    victim.proc.wait()  # type: ignore[union-attr]
    victim.proc = None
    try:  # a host that died cannot say goodbye: its announcement runs out (3 x 0.5 s)
        wait_until(lambda: victim.node not in _hosts_seen(a), timeout=10)
        with a.client() as c:
            done = wait_job(c, job["id"], timeout=180)
        assert done["state"] == "done", done
        row = cluster.job_row(job["id"])
        assert row["attempts"] == 2
        survivor = next(w for w in cluster.workers if w is not victim)
        assert f"job {job['id']} done" in survivor.log_path.read_text(errors="replace")
    finally:
        victim.start()


def test_twenty_concurrent_identical_requests_over_both_nodes_run_one_separation(cluster: Cluster, songs: Path) -> None:
    a, b = cluster.apis
    with a.client() as c:
        song = upload(c, _song(songs, 30.0, "twenty")).json()
    ids: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def one(i: int) -> None:
        node = (a, b)[i % 2]
        try:
            start.wait()
            with httpx.Client(base_url=node.base_url, timeout=60) as c:
                r = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"})
            assert r.status_code in (200, 202), r.text
            ids.append(r.json()["id"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(ids) == 20 and len(set(ids)) == 1
    with b.client() as c:
        assert wait_job(c, ids[0], timeout=180)["state"] == "done"
    assert cluster.scalar("SELECT count(*) FROM jobs WHERE song_id = %s", song["id"]) == 1
    assert cluster.job_row(ids[0])["attempts"] == 1
    starts = cluster.scalar(
        "SELECT count(*) FROM job_events WHERE job_id = %s AND type = 'progress' AND payload->>'stage' = 'starting'",
        ids[0],
    )
    assert starts in (0, 1)  # progress rows are pruned at the final event; never two starts


def test_failed_logins_are_counted_across_both_nodes(cluster: Cluster) -> None:
    """Guesses spread over the two API nodes meet one limit (5 per user), kept in Redis."""
    a, b = cluster.apis
    guess = {"username": "mallory", "password": "not the password"}
    codes = []
    for node in (a, b, a, b, a):
        with node.client() as c:
            codes.append(c.post("/api/auth/login", json=guess).status_code)
    assert codes == [401] * 5
    for node in (b, a):
        with node.client() as c:
            r = c.post("/api/auth/login", json=guess)
        assert r.status_code == 429, r.text
        assert int(r.headers["retry-after"]) > 0


def test_stopped_api_node_client_resumes_on_the_other_and_gets_the_final_event_once(
    cluster: Cluster, songs: Path
) -> None:
    a, b = cluster.apis
    with a.client() as c:
        song = upload(c, _song(songs, 120.0, "failover")).json()
    job = _separate(a, song["id"])
    seen: list[dict[str, Any]] = []
    try:
        with ws_connect(a.ws_url) as ws:
            ws.send(json.dumps({"type": "subscribe", "jobs": [job["id"]]}))
            seen.append(recv_json(ws))
            while not any(m["type"] == "progress" and m.get("progress", 0) > 0.1 for m in seen):
                seen.append(recv_json(ws, timeout=120))
            a.stop()  # the node goes away mid-job: its connection closes
            try:
                while True:
                    seen.append(recv_json(ws, timeout=30))
            except Exception:
                pass
        last_seq = max(m["seq"] for m in seen if "seq" in m)
        with ws_connect(b.ws_url) as ws:
            ws.send(json.dumps({"type": "resume", "after": {job["id"]: last_seq}}))
            resumed = collect_until_final(ws, job["id"])
    finally:
        a.start()
    everything = [*seen, *resumed]
    finals = [m for m in everything if m.get("type") in FINALS and m.get("job_id") == job["id"]]
    assert len(finals) == 1 and finals[0]["type"] == "done"
    assert all(m["seq"] > last_seq for m in resumed if "seq" in m)


def test_a_range_of_a_job_running_on_a_worker_host_is_served_by_an_api_node(cluster: Cluster, songs: Path) -> None:
    """The worker streams finished segments to S3: an API node with none of them on its disk
    serves a range while the job runs, and the same bytes from the published stems after."""
    a, b = cluster.apis
    with a.client() as c:
        song = upload(c, _song(songs, 180.0, "progressive")).json()
    job = _separate(a, song["id"])
    read = None
    with b.client() as c:
        while (row := c.get(f"/api/jobs/{job['id']}").json())["state"] in ("queued", "running"):
            if row["ready_seconds"] >= 8.0 and read is None:
                r = c.get(f"/api/songs/{song['id']}/stems/drums", params={"start": 2.5, "end": 7.5})
                if r.status_code == 200:
                    assert r.headers["cache-control"] == "no-store"
                    assert float(r.headers["x-ready-seconds"]) >= 7.5
                    read = r.content
            time.sleep(0.05)
        assert row["state"] == "done", row
        assert read is not None, "the job was never caught mid-way"
        assert not any((node.root / "cache" / "partial" / job["id"]).exists() for node in cluster.apis)
        after = c.get(f"/api/songs/{song['id']}/stems/drums", params={"start": 2.5, "end": 7.5})
        assert after.status_code == 200 and after.content == read
    for host in cluster.workers:  # the worker removed its partial data once the job was done
        wait_until(lambda host=host: not (host.root / "cache" / "partial" / job["id"]).exists(), timeout=10)
