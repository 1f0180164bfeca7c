"""Lost Redis and PostgreSQL connections are made again without restarting anything: a 2-API-node,
2-worker-host cluster keeps answering (503 with Retry-After at worst, never a 500) while
redis-server or PostgreSQL is SIGKILLed and started again, and jobs and events work afterwards."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import services
from tests.api.harness import ServerProcess, upload, wait_job
from tests.api.songfiles import make_song, salted_copy
from tests.api.wsclient import collect_until_final, recv_json, ws_connect
from tests.reliability.services_control import (
    PostgresService,
    RedisService,
    cluster_settings,
    restartable_postgres,
    restartable_redis,
    scaled_cluster,
)


@pytest.fixture(scope="module", autouse=True)
def _require_services() -> None:
    missing = services.services_missing()
    if missing:
        pytest.fail(f"scale-out services missing: {missing} (run WITH_TEST_SERVICES=1 scripts/setup.sh)")


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisService]:
    with restartable_redis(tmp_path_factory.mktemp("redis")) as service:
        yield service


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresService]:
    with restartable_postgres() as service:
        yield service


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, redis: RedisService, postgres: PostgresService) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("reconnect")
    with services.s3_server(root / "s3") as s3:
        settings = cluster_settings(redis.url, postgres.admin_url, s3)
        with scaled_cluster(root, settings) as running:
            yield running


def retried(call: Any, deadline_seconds: float = 30.0) -> httpx.Response:
    """Call until it is not a 503, as a client honouring Retry-After would; a 5xx other than 503 fails."""
    deadline = time.time() + deadline_seconds
    while True:
        try:
            r: httpx.Response = call()
        except httpx.TransportError:
            r = httpx.Response(599)
        assert r.status_code < 500 or r.status_code in (503, 599), (r.status_code, r.text)
        if r.status_code < 500 or time.time() > deadline:
            return r
        if r.status_code == 503:
            assert int(r.headers["Retry-After"]) >= 1
        time.sleep(0.3)


def _separate_and_follow(a: ServerProcess, b: ServerProcess, song_file: Path) -> list[dict[str, Any]]:
    """Upload and separate through `a`, follow the job over `b`'s WebSocket; the events `b` sent."""
    with a.client() as c:
        song = retried(lambda: upload(c, song_file)).json()
        r = retried(lambda: c.post(f"/api/songs/{song['id']}/separations", json={"engine": "dsp"}))
        assert r.status_code in (200, 202), r.text
        job = r.json()
    with ws_connect(b.ws_url) as ws:
        ws.send(json.dumps({"type": "subscribe", "jobs": [job["id"]]}))
        assert recv_json(ws)["type"] == "snapshot"
        events = collect_until_final(ws, job["id"], timeout=120)
    with a.client() as c:
        assert wait_job(c, job["id"], timeout=60)["state"] == "done"
    return events


def _finals(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events if e["type"] in ("done", "failed", "cancelled")]


@pytest.mark.parametrize("which", ["redis", "postgres"])
def test_cluster_works_again_after_a_service_restart(
    which: str, cluster: Any, redis: RedisService, postgres: PostgresService, tmp_path: Path
) -> None:
    a, b = cluster.apis
    base = make_song(tmp_path, 10.0, "mp3", seed=7)
    before = _separate_and_follow(a, b, salted_copy(base, tmp_path, f"{which}-before".encode()))
    assert _finals(before) == ["done"]
    service = redis if which == "redis" else postgres
    service.restart(down_seconds=1.0)
    # Every node answers again (503 meanwhile at worst), with no restart of its own.
    for node in cluster.apis:
        with node.client() as c:
            assert retried(lambda c=c: c.get("/api/songs")).status_code == 200
    after = _separate_and_follow(a, b, salted_copy(base, tmp_path, f"{which}-after".encode()))
    assert _finals(after) == ["done"]
    for node in [*cluster.apis, *cluster.workers]:
        assert node.proc is not None and node.proc.poll() is None, node.log()
    for node in cluster.apis:
        assert " 500 " not in node.log_path.read_text(errors="replace"), node.log()
