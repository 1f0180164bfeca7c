"""redis-server and PostgreSQL that a test can kill and start again on the same port, and a small
scale-out cluster (API nodes + `riffroom worker` hosts) on them. Loopback only.

    with restartable_redis(tmp) as redis, restartable_postgres() as pg, s3_server(tmp) as s3:
        with scaled_cluster(tmp, redis.url, pg.admin_url, s3) as cluster:
            redis.restart()
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests import services
from tests.api.harness import ServerProcess, _die_with_parent, free_port


class ServiceProcess:
    """One service process started from a fixed command line; `restart()` keeps its port and data."""

    def __init__(self, what: str, cmd: list[str], port: int, log: Path, cwd: str | None = None) -> None:
        self.what, self.cmd, self.port, self.log, self.cwd = what, cmd, port, log, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.cmd, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, preexec_fn=_die_with_parent, cwd=self.cwd
        )
        services._wait_port(self.port, self.proc, self.what, self.log)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc = None

    def restart(self, down_seconds: float = 0.5, sig: int = signal.SIGKILL) -> None:
        """Kill (SIGKILL by default: no goodbye to the clients), stay down a while, start again."""
        self.kill(sig)
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        if self.proc is not None:
            services._stop(self.proc)
            self.proc = None


class RedisService(ServiceProcess):
    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class PostgresService(ServiceProcess):
    @property
    def admin_url(self) -> str:
        return f"postgresql://riffroom@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        super().start()
        deadline = time.time() + 30
        bindir = services.postgres_bindir()
        assert bindir is not None
        while time.time() < deadline:
            ready = subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres on {self.port} is not ready")


@contextmanager
def restartable_redis(root: Path) -> Iterator[RedisService]:
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    redis = RedisService("redis-server", services.redis_command(port, root), port, root / "redis.log")
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@contextmanager
def restartable_postgres() -> Iterator[PostgresService]:
    bindir, root, data = services.init_postgres()
    port = free_port()
    pg = PostgresService("postgres", services.postgres_command(bindir, data, port, root), port, root / "pg.log", "/")
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


def cluster_settings(redis_url: str, pg_admin_url: str, s3_endpoint: str, **extra: Any) -> dict[str, Any]:
    """Settings every node of one fresh cluster shares: its own database, bucket and queue."""
    pg_url = services.create_database(pg_admin_url, f"rel_{uuid.uuid4().hex[:10]}")
    bucket = f"rel-{uuid.uuid4().hex[:10]}"
    services.create_bucket(s3_endpoint, bucket)
    return {
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
        **extra,
    }


@contextmanager
def scaled_cluster(root: Path, settings: dict[str, Any], apis: int = 2, workers: int = 2) -> Iterator[Any]:
    """API nodes (no local workers) and `riffroom worker` hosts, all started; a scale-test `Cluster`."""
    from tests.scale.test_cluster import Cluster, WorkerHost

    api_nodes = [ServerProcess(root / f"api{i}", workers=0, **settings) for i in range(apis)]
    hosts = [WorkerHost(root / f"worker{i}", **settings) for i in range(workers)]
    try:
        for node in api_nodes:
            node.root.mkdir(parents=True, exist_ok=True)
            node.start()
        for host in hosts:
            host.start()
        yield Cluster(api_nodes, hosts, settings["database_url"])
    finally:
        for proc in [*api_nodes, *hosts]:
            proc.stop()
