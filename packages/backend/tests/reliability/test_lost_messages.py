"""A queued job whose Dramatiq message died with redis-server (restarted without persistence) is
sent again, once, and runs once, even with a duplicate message on top; against a real cluster
(1 API node, 1 `riffroom worker` host, redis-server, PostgreSQL, the S3 test server)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis as redis_lib
from riffroom.config import Settings
from riffroom.jobs.dramatiq_queue import NAMESPACE, DramatiqJobQueue

from tests import services
from tests.api.harness import upload, wait_job, wait_until
from tests.api.songfiles import make_song
from tests.reliability.services_control import cluster_settings, restartable_postgres, restartable_redis, scaled_cluster


@pytest.fixture(scope="module", autouse=True)
def _require_services() -> None:
    missing = services.services_missing()
    if missing:
        pytest.fail(f"scale-out services missing: {missing} (run WITH_TEST_SERVICES=1 scripts/setup.sh)")


def _messages_for(url: str, queue_name: str, job_id: str) -> int:
    """How many messages in the broker carry `job_id` (waiting, delayed, or taken and not acked)."""
    client = redis_lib.Redis.from_url(url, socket_timeout=2)
    try:
        bodies = [
            *client.hvals(f"{NAMESPACE}:{queue_name}.msgs"),
            *client.hvals(f"{NAMESPACE}:{queue_name}.DQ.msgs"),
        ]
    finally:
        client.close()
    return sum(1 for body in bodies if json.loads(body).get("args") == [job_id])


def _worker_process(host_pid: int) -> psutil.Process:
    children = psutil.Process(host_pid).children(recursive=True)
    return next(p for p in children if "riffroom.jobs.worker" in " ".join(p.cmdline()))


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    with (
        restartable_redis(tmp_path / "redis") as redis,
        restartable_postgres() as pg,
        services.s3_server(tmp_path / "s3") as s3,
    ):
        settings = cluster_settings(redis.url, pg.admin_url, s3)
        with scaled_cluster(tmp_path / "cluster", settings, apis=1, workers=1) as running:
            yield running, redis, settings


def test_a_job_whose_message_redis_lost_is_sent_again_once_and_runs_once(
    cluster: tuple[Any, Any, dict[str, Any]], tmp_path: Path
) -> None:
    running, redis, settings = cluster
    host = running.workers[0]
    worker = _worker_process(host.proc.pid)
    queue_name = settings["queue_name"]
    os.kill(worker.pid, signal.SIGSTOP)  # nobody takes the message before redis-server goes
    try:
        with running.apis[0].client() as c:
            song_id = upload(c, make_song(tmp_path, 8.0, "wav", seed=31)).json()["id"]
            r = c.post(f"/api/songs/{song_id}/separations", json={"engine": "dsp"})
            assert r.status_code == 202, r.text
            job_id = r.json()["id"]
        wait_until(lambda: _messages_for(redis.url, queue_name, job_id) == 1, timeout=10)
        redis.restart(down_seconds=0.5)  # no persistence: the message is gone, the row stays queued
        wait_until(lambda: _messages_for(redis.url, queue_name, job_id) == 1, timeout=30)
        time.sleep(3.0)  # more sweeps: still exactly one message
        assert _messages_for(redis.url, queue_name, job_id) == 1
        assert "redis-server restarted" in host.log_path.read_text(errors="replace")
        duplicate = DramatiqJobQueue(Settings(**{k: v for k, v in settings.items() if k in Settings.model_fields}))
        try:
            duplicate.enqueue(job_id)  # a second message for the same job: the claim must drop one
        finally:
            duplicate.stop()
        assert _messages_for(redis.url, queue_name, job_id) == 2
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    with running.apis[0].client() as c:
        job = wait_job(c, job_id, timeout=180)
        assert job["state"] == "done", job
        assert job["attempts"] == 1, job
    wait_until(lambda: _messages_for(redis.url, queue_name, job_id) == 0, timeout=30)  # both acknowledged
    log = host.log_path.read_text(errors="replace")
    assert log.count(f"job {job_id} runs") == 1, log[-3000:]
    assert f"job {job_id} is no longer queued; message dropped" in log
