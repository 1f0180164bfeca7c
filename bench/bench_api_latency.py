"""API p95 latency while separations keep every core busy, vs the same server idle (goal: <= 3x).

Starts a real `riffroom serve` (2 workers, dsp engine), measures GET /api/songs/{id} and
/health/ready from a client, then again while separation jobs run back to back.
Usage: bench_api_latency.py [--requests 400]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx
import psutil

# isort: off
import _measure  # puts packages/backend on sys.path first
from tests.api.harness import run_server, upload, wait_job
from tests.api.songfiles import make_song
# isort: on


def p95(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1]


def server_times(log: bytes) -> list[float]:
    """Request durations the server itself logged (`riffroom.access: GET /path 200 1.2ms`)."""
    out = []
    for line in log.decode(errors="replace").splitlines():
        if "riffroom.access: GET" in line and line.endswith("ms"):
            out.append(float(line.rsplit(" ", 1)[1][:-2]) / 1e3)
    return out or [float("nan")]


def measure(client: httpx.Client, urls: list[str], n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        r = client.get(urls[i % len(urls)])
        out.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text
        time.sleep(0.005)
    return out


def _main(root: Path) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--workers", type=int, default=psutil.cpu_count() or 2)
    parser.add_argument("--worker-nice", type=int, default=None, help="override RIFFROOM_WORKER_NICE")
    args = parser.parse_args()
    song = make_song(root / "songs", 240.0, "mp3", seed=5)
    extra = {} if args.worker_nice is None else {"worker_nice": args.worker_nice}
    with run_server(root / "srv", workers=args.workers, dsp_chunk_seconds=5.0, **extra) as srv, srv.client() as c:
        sid = upload(c, song).json()["id"]
        urls = [f"/api/songs/{sid}", "/health/ready", "/api/songs"]
        measure(c, urls, 50)  # warm up
        mark0 = len(srv.log_path.read_bytes())
        idle = measure(c, urls, args.requests)
        mark1 = len(srv.log_path.read_bytes())
        # Keep every worker busy: distinct content each time, so nothing is a cache hit.
        jobs = []
        for i in range(args.workers * 3):
            copy = root / f"busy-{i}.mp3"
            copy.write_bytes(song.read_bytes() + bytes([i]) * 8)
            busy_sid = upload(c, copy).json()["id"]
            jobs.append(c.post(f"/api/songs/{busy_sid}/separations", json={"engine": "dsp"}).json()["id"])
        time.sleep(2.0)
        psutil.cpu_percent(None)
        mark2 = len(srv.log_path.read_bytes())
        loaded = measure(c, urls, args.requests)
        cpu = psutil.cpu_percent(None)
        mark3 = len(srv.log_path.read_bytes())
        log = srv.log_path.read_bytes()
        idle_srv, loaded_srv = server_times(log[mark0:mark1]), server_times(log[mark2:mark3])
        running = sum(1 for j in jobs if c.get(f"/api/jobs/{j}").json()["state"] == "running")
        for j in jobs:
            c.post(f"/api/jobs/{j}/cancel")
        for j in jobs:
            wait_job(c, j, timeout=120)
    print(
        f"workers: {args.workers}, requests per phase: {args.requests}, "
        f"machine CPU during the loaded phase: {cpu:.0f}%, jobs running at its end: {running}"
    )
    print(f"idle:   p50 {statistics.median(idle) * 1e3:6.2f} ms   p95 {p95(idle) * 1e3:6.2f} ms")
    print(f"loaded: p50 {statistics.median(loaded) * 1e3:6.2f} ms   p95 {p95(loaded) * 1e3:6.2f} ms")
    print(f"ratio loaded/idle p95: {p95(loaded) / p95(idle):.2f}x (goal <= 3x)")
    print(
        f"inside the server (access log): idle p95 {p95(idle_srv) * 1e3:.2f} ms, loaded p95 "
        f"{p95(loaded_srv) * 1e3:.2f} ms, ratio {p95(loaded_srv) / p95(idle_srv):.2f}x"
    )


def main() -> None:
    _measure.run_in_temp_dir("riffroom-bench-api-", _main)


if __name__ == "__main__":
    main()
