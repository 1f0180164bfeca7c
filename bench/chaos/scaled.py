"""The scaled-out part of the campaign: 2 API nodes and 2 `riffroom worker` hosts on
redis-server, PostgreSQL and the S3 test server, with redis-server and PostgreSQL SIGKILLed and
started again at random moments of a separation, and worker hosts SIGKILLed mid-job."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from tests import services
from tests.api.harness import upload
from tests.reliability.campaign import SERVER_SETTINGS
from tests.reliability.chaos import Tally, salted, sha256_file, stem_hashes
from tests.reliability.follower import Follower
from tests.reliability.services_control import cluster_settings, restartable_postgres, restartable_redis, scaled_cluster
from tests.reliability.test_reconnect import retried

DSP_CHUNK = SERVER_SETTINGS["dsp_chunk_seconds"]


def scaled_run(
    root: Path,
    song: Path,
    reference: Callable[[Path], dict[str, str]],
    *,
    redis_restarts: int,
    postgres_restarts: int,
    host_kills: int,
    seed: int,
) -> Tally:
    rng = random.Random(seed)
    tally = Tally(runs=1)
    with (
        restartable_redis(root / "redis") as redis,
        restartable_postgres() as pg,
        services.s3_server(root / "s3") as s3,
        # The undisturbed reference is an embedded server with the campaign's settings: the same dsp
        # chunking here, or every stem differs from it for a reason that is no fault's.
        scaled_cluster(
            root / "cluster", cluster_settings(redis.url, pg.admin_url, s3, dsp_chunk_seconds=DSP_CHUNK)
        ) as cluster,
    ):
        a, b = cluster.apis
        plan = ["redis"] * redis_restarts + ["postgres"] * postgres_restarts + ["host"] * host_kills
        rng.shuffle(plan)
        jobs: dict[str, tuple[str, Path]] = {}
        with Follower(lambda: b.ws_url) as follower:
            for i, fault in enumerate(plan):
                path = salted(song, root, f"c{i}")
                with a.client() as c:
                    r = retried(lambda c=c, path=path: upload(c, path))
                    assert r.status_code in (200, 201), r.text
                    song_id = r.json()["id"]
                    tally.uploads += 1
                    r = _separate_within_quota(c, song_id)
                    assert r.status_code in (200, 202), r.text
                    job_id = r.json()["id"]
                jobs[job_id] = (song_id, path)
                follower.follow(job_id)
                time.sleep(rng.uniform(0.0, 1.5))
                if fault == "host":
                    victim = rng.choice(cluster.workers)
                    assert victim.proc is not None
                    os.kill(victim.proc.pid, signal.SIGKILL)
                    victim.proc.wait()
                    victim.proc = None
                    victim.start()
                    tally.faults["worker host SIGKILL mid-job"] += 1
                else:
                    (redis if fault == "redis" else pg).restart(down_seconds=rng.uniform(0.2, 2.0))
                    tally.faults[f"{fault} SIGKILL + restart under load"] += 1
            with a.client() as c:
                for job_id, (song_id, path) in jobs.items():
                    tally.jobs += 1
                    deadline = time.time() + 240
                    job = retried(lambda c=c, j=job_id: c.get(f"/api/jobs/{j}")).json()
                    while job["state"] not in ("done", "failed", "cancelled") and time.time() < deadline:
                        time.sleep(0.2)
                        job = retried(lambda c=c, j=job_id: c.get(f"/api/jobs/{j}")).json()
                    if job["state"] == "done":
                        if stem_hashes(c, song_id) != reference(path):
                            tally.stem_mismatches += 1
                            tally.problems.append(f"job {job_id}: stems differ from the undisturbed run")
                    elif job["state"] == "failed" and job.get("error"):
                        tally.jobs_failed_with_reason += 1
                    else:
                        tally.jobs_lost += 1
                        tally.problems.append(f"job {job_id} ended {job['state']} ({job.get('error')})")
                    found = c.get(f"/api/songs/by-hash/{sha256_file(path)}")
                    if found.status_code != 200:
                        tally.uploads_lost += 1
            follower.wait_finals(list(jobs), timeout=30)
            wrong = [j for j in jobs if follower.finals[j] != 1]
            tally.final_events_wrong += len(wrong)
            tally.problems += [f"job {j}: {follower.finals[j]} final events" for j in wrong]
        for node in cluster.apis:
            if " 500 " in node.log_path.read_text(errors="replace"):
                tally.problems.append(f"{node.root.name} answered a 500")
    return tally


def _separate_within_quota(c: httpx.Client, song_id: str, patience: float = 300.0) -> httpx.Response:
    """Ask for a separation as a client with many songs does: while the account has the most jobs
    it may have queued or running (quota_exceeded), wait for one to end and ask again."""
    deadline = time.time() + patience
    while True:
        r = retried(lambda: c.post(f"/api/songs/{song_id}/separations", json={"engine": "dsp"}))
        quota = r.status_code == 429 and r.json().get("error", {}).get("code") == "quota_exceeded"
        if not quota or time.time() > deadline:
            return r
        time.sleep(1.0)
