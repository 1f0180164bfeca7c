"""Scale-out jobs: throughput with 1 vs 2 `riffroom worker` hosts (dsp engine), and the latency the
Dramatiq queue adds per job (enqueue -> claimed, from the job rows) vs the embedded local:// queue.

Starts its own redis-server and PostgreSQL on loopback ports (tests/services.py); blobs in a shared
directory so the S3 server is not what is measured.
Usage: bench_scale_jobs.py [--jobs 8] [--seconds 20] [--latency-jobs 10]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

# isort: off
import _measure  # noqa: F401  (puts packages/backend on sys.path first)
from tests import services
from tests.api.harness import ServerProcess, upload, wait_job
from tests.api.songfiles import make_song
from tests.scale.test_cluster import WorkerHost
# isort: on


def _songs(directory: Path, n: int, seconds: float, tag: str) -> list[Path]:
    base = make_song(directory, seconds, "mp3", seed=5)
    out = []
    for i in range(n):
        p = directory / f"{tag}-{i}.mp3"
        p.write_bytes(base.read_bytes() + f"{tag}-{i}".encode())
        out.append(p)
    return out


def _submit_all(api: ServerProcess, paths: list[Path]) -> tuple[float, list[str]]:
    with api.client(timeout=120) as c:
        song_ids = [upload(c, p).json()["id"] for p in paths]
        started = time.perf_counter()
        responses = [c.post(f"/api/songs/{s}/separations", json={"engine": "dsp"}) for s in song_ids]
        assert all(r.status_code in (200, 202) for r in responses), [r.text for r in responses]
        job_ids = [r.json()["id"] for r in responses]
        for j in job_ids:
            assert wait_job(c, j, timeout=1800)["state"] == "done"
        return time.perf_counter() - started, job_ids


def _sequential(api: ServerProcess, paths: list[Path]) -> list[str]:
    ids = []
    with api.client(timeout=120) as c:
        for p in paths:
            song = upload(c, p).json()
            time.sleep(0.3)  # let the idle worker settle into its wait
            job = c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}).json()
            assert wait_job(c, job["id"], timeout=600)["state"] == "done"
            ids.append(job["id"])
    return ids


def _waits_pg(url: str, ids: list[str]) -> list[float]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT started_at - created_at FROM jobs WHERE id = ANY(%s)", (ids,)).fetchall()
    return [float(r[0]) for r in rows]


def _waits_sqlite(path: Path, ids: list[str]) -> list[float]:
    db = sqlite3.connect(path)
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"SELECT started_at - created_at FROM jobs WHERE id IN ({marks})", ids).fetchall()
    db.close()
    return [float(r[0]) for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--latency-jobs", type=int, default=10)
    args = ap.parse_args()
    missing = services.services_missing()
    if missing:
        raise SystemExit(missing)
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    with services.redis_server(tmp / "redis") as redis_url, services.postgres_server(tmp / "pg") as pg_admin:
        throughput: dict[int, float] = {}
        waits_dramatiq: list[float] = []
        for n_workers in (1, 2):
            pg_url = services.create_database(pg_admin, f"bench_{n_workers}_{uuid.uuid4().hex[:6]}")
            settings: dict[str, Any] = {
                "queue_url": redis_url,
                "queue_name": f"bench-{uuid.uuid4().hex[:6]}",
                "database_url": pg_url,
                "blob_url": f"file://{tmp / f'blobs{n_workers}'}",
                "worker_nice": 0,
                "quota_active_jobs": 0,
                "quota_songs": 0,  # one user submits everything: no per-user caps
            }
            api = ServerProcess(tmp / f"api{n_workers}", workers=0, **settings)
            api.root.mkdir(parents=True)
            hosts = [WorkerHost(tmp / f"w{n_workers}-{i}", **settings) for i in range(n_workers)]
            try:
                api.start()
                for h in hosts:
                    h.start()
                _submit_all(api, _songs(tmp / "warm", 1, 5.0, f"warm{n_workers}"))  # imports, first decode
                wall, _ = _submit_all(api, _songs(tmp / "songs", args.jobs, args.seconds, f"t{n_workers}"))
                throughput[n_workers] = args.jobs / wall * 3600
                print(
                    f"{n_workers} worker(s): {args.jobs} x {args.seconds:g} s songs in {wall:.1f} s "
                    f"= {throughput[n_workers]:.0f} jobs/hour",
                    flush=True,
                )
                if n_workers == 1:
                    ids = _sequential(api, _songs(tmp / "lat", args.latency_jobs, 3.0, "lat-d"))
                    waits_dramatiq = _waits_pg(pg_url, ids)
            finally:
                for h in hosts:
                    h.stop()
                api.stop()
        local = ServerProcess(tmp / "local", workers=1, worker_nice=0)
        local.root.mkdir(parents=True)
        try:
            local.start()
            _submit_all(local, _songs(tmp / "warm", 1, 5.0, "warm-local"))
            ids = _sequential(local, _songs(tmp / "lat", args.latency_jobs, 3.0, "lat-l"))
            waits_local = _waits_sqlite(local.data_dir / "riffroom.db", ids)
        finally:
            local.stop()
    ratio = throughput[2] / throughput[1]
    med_d, med_l = statistics.median(waits_dramatiq), statistics.median(waits_local)
    print(f"throughput 2 workers / 1 worker: {ratio:.2f}x (goal >= 1.6x)")
    print(
        f"enqueue -> claimed, median of {args.latency_jobs}: dramatiq+redis+postgres {med_d * 1000:.1f} ms, "
        f"embedded local:// {med_l * 1000:.1f} ms; the queue adds {(med_d - med_l) * 1000:+.1f} ms "
        f"(goal < 100 ms); max dramatiq {max(waits_dramatiq) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
