"""Real servers for the scale-out tests, each a separate process on a loopback port.

redis-server and PostgreSQL come from Debian packages (scripts/setup.sh installs them with
WITH_TEST_SERVICES=1); the S3 store is moto in server mode. Nothing is mocked in-process.

    with redis_server(tmp) as url, postgres_server(tmp) as pg_url, s3_server(tmp) as endpoint:
        ...
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.api.harness import _die_with_parent, free_port


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def services_missing() -> str | None:
    """Why the scale-out tests cannot run here, or None."""
    if redis_binary() is None:
        return "redis-server is not installed (run WITH_TEST_SERVICES=1 scripts/setup.sh)"
    if postgres_bindir() is None:
        return "PostgreSQL is not installed (run WITH_TEST_SERVICES=1 scripts/setup.sh)"
    try:
        import boto3  # noqa: F401
        import dramatiq  # noqa: F401
        import moto.server  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as exc:
        return f"the scale extra is not installed: {exc}"
    return None


def redis_command(port: int, root: Path) -> list[str]:
    """redis-server on loopback only, no persistence (tests/reliability restarts it on the same port)."""
    return [
        redis_binary() or "redis-server",
        *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
        *("--dir", str(root), "--protected-mode", "no"),
    ]


@contextmanager
def redis_server(root: Path) -> Iterator[str]:
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    log = root / "redis.log"
    proc = subprocess.Popen(
        redis_command(port, root),
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )
    try:
        _wait_port(port, proc, "redis-server", log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def postgres_command(bindir: Path, data: Path, port: int, socket_dir: Path) -> list[str]:
    """postgres on loopback only, durability off (test data); as `postgres` when we are root."""
    return [
        *_as_postgres_user(),
        str(bindir / "postgres"),
        *("-D", str(data), "-p", str(port), "-k", str(socket_dir), "-c", "listen_addresses=127.0.0.1"),
        *("-c", "fsync=off", "-c", "max_connections=200", "-c", "synchronous_commit=off"),
        *("-c", "full_page_writes=off"),
    ]


def init_postgres() -> tuple[Path, Path, Path]:
    """A fresh cluster (user `riffroom`, trust on loopback): (bindir, its root dir, its data dir)."""
    bindir = postgres_bindir()
    assert bindir is not None
    prefix = _as_postgres_user()
    # pytest's temp dirs are private to root; the postgres user needs a directory of its own.
    root = Path(tempfile.mkdtemp(prefix="riffroom-pg-"))
    data = root / "pgdata"
    if prefix:
        shutil.chown(root, "postgres", "postgres")
    init = subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "riffroom", "--no-sync", "-E", "UTF8"],
        capture_output=True,
        cwd="/",
    )
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {init.stderr.decode(errors='replace')[-2000:]}")
    return bindir, root, data


@contextmanager
def postgres_server(root: Path) -> Iterator[str]:
    bindir, root, data = init_postgres()
    port = free_port()
    log = root / "postgres.log"
    proc = subprocess.Popen(
        postgres_command(bindir, data, port, root),
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
        cwd="/",
    )
    try:
        _wait_port(port, proc, "postgres", log)
        deadline = time.time() + 30
        while True:
            ok = (
                subprocess.run(
                    [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
                ).returncode
                == 0
            )
            if ok or time.time() > deadline:
                break
            time.sleep(0.1)
        yield f"postgresql://riffroom@127.0.0.1:{port}/postgres"
    finally:
        _stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    """A fresh, empty database on the server; returns its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


S3_KEY, S3_SECRET = "testing", "testing"


@contextmanager
def s3_server(root: Path) -> Iterator[str]:
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    log = root / "moto.log"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        env=env,
        preexec_fn=_die_with_parent,
    )
    try:
        _wait_port(port, proc, "moto_server", log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


def create_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET, region_name="us-east-1"
    ).create_bucket(Bucket=bucket)
