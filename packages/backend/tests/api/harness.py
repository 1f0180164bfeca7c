"""A real RiffRoom server in a subprocess, on a loopback port, with its own data dir.

with run_server(tmp_path, workers=1) as srv:
    srv.client().get("/health/ready")
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

SRC = Path(__file__).resolve().parents[2] / "src"
BACKEND = SRC.parent  # on the path too, so a test can launch a module of its own (`tests.…`)


def _die_with_parent() -> None:
    """The server (and so its workers) dies with the test run, even when pytest is killed."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(
        self,
        root: Path,
        workers: int = 1,
        *,
        launcher: tuple[str, ...] = (),
        environ: dict[str, str] | None = None,
        **settings: Any,
    ) -> None:
        """`launcher`: `-m MODULE ARGS...` to run instead of `-m riffroom.cli` (before `serve ...`);
        `environ`: other environment variables (HF_ENDPOINT, HF_HOME...)."""
        self.root = root
        self.environ = environ or {}
        self.launcher = launcher or ("riffroom.cli",)
        self.data_dir = root / "data"
        self.workers = workers
        self.settings = settings
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/ws"
        self.log_path = root / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RIFFROOM_")}
        env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(BACKEND), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env["RIFFROOM_CACHE_DIR"] = str(self.root / "cache")
        env["RIFFROOM_MIN_FREE_DISK_BYTES"] = "1"
        # No test server downloads weights unless its test asks (fetch_models="auto"), and none can
        # reach the real hub: HF_ENDPOINT is a closed loopback port unless the test names its own.
        env["RIFFROOM_FETCH_MODELS"] = "never"
        env["HF_ENDPOINT"] = "http://127.0.0.1:9"
        env.update(self.environ)
        for key, value in self.settings.items():
            env[f"RIFFROOM_{key.upper()}"] = value if isinstance(value, str) else str(value)
        return env

    def start(self, timeout: float = 60.0) -> ServerProcess:
        cmd = [
            sys.executable,
            "-m",
            *self.launcher,
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--workers",
            str(self.workers),
            "--log-level",
            "info",
        ]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            cmd, env=self.env(), stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health/live", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not come up:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=kw.pop("timeout", 30.0), **kw)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def ready(self) -> dict[str, Any]:
        r = httpx.get(f"{self.base_url}/health/ready", timeout=10)
        return r.json()  # type: ignore[no-any-return]

    def worker_pids(self) -> list[int]:
        return [w["pid"] for w in self.ready()["checks"]["workers"]["workers"] if w["alive"]]


@contextmanager
def run_server(root: Path, workers: int = 1, **settings: Any) -> Iterator[ServerProcess]:
    root.mkdir(parents=True, exist_ok=True)
    srv = ServerProcess(root, workers=workers, **settings).start()
    try:
        yield srv
    finally:
        srv.stop()


def upload(client: httpx.Client, path: Path, name: str | None = None) -> httpx.Response:
    with open(path, "rb") as fh:
        return client.post("/api/songs", files={"file": (name or path.name, fh, "application/octet-stream")})


def wait_job(
    client: httpx.Client, job_id: str, states: tuple[str, ...] = ("done", "failed", "cancelled"), timeout: float = 120.0
) -> dict[str, Any]:
    deadline = time.time() + timeout
    job: dict[str, Any] = {}
    while time.time() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job.get('state')} after {timeout} s: {job}")


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.05) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
