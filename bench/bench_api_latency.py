"""API p95 latency while separations keep every core busy, vs the same server idle (goal: <= 3x).

Starts a real `riffroom serve` (2 workers, dsp engine), measures GET /api/songs/{id} and
/health/ready from a client, then again while separation jobs run back to back.
Usage: bench_api_latency.py [--requests 400]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import _measure  # noqa: F401  (puts packages/backend on sys.path)
import httpx
import psutil

from tests.api.harness import run_server, upload, wait_job
from tests.api.songfiles import make_song


def p95(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1]


def measure(client: httpx.Client, urls: list[str], n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        r = client.get(urls[i % len(urls)])
        out.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text
        time.sleep(0.005)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--workers", type=int, default=psutil.cpu_count() or 2)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="riffroom-bench-api-"))
    song = make_song(root / "songs", 240.0, "mp3", seed=5)
    with run_server(root / "srv", workers=args.workers, dsp_chunk_seconds=5.0) as srv, srv.client() as c:
        sid = upload(c, song).json()["id"]
        urls = [f"/api/songs/{sid}", "/health/ready", "/api/songs"]
        measure(c, urls, 50)  # warm up
        idle = measure(c, urls, args.requests)
        # Keep every worker busy: distinct content each time, so nothing is a cache hit.
        jobs = []
        for i in range(args.workers * 3):
            copy = root / f"busy-{i}.mp3"
            copy.write_bytes(song.read_bytes() + bytes([i]) * 8)
            busy_sid = upload(c, copy).json()["id"]
            jobs.append(c.post(f"/api/songs/{busy_sid}/separations", json={"engine": "dsp"}).json()["id"])
        time.sleep(2.0)
        psutil.cpu_percent(None)
        loaded = measure(c, urls, args.requests)
        cpu = psutil.cpu_percent(None)
        running = sum(1 for j in jobs if c.get(f"/api/jobs/{j}").json()["state"] == "running")
        for j in jobs:
            c.post(f"/api/jobs/{j}/cancel")
        for j in jobs:
            wait_job(c, j, timeout=120)
    print(f"workers: {args.workers}, requests per phase: {args.requests}, "
          f"machine CPU during the loaded phase: {cpu:.0f}%, jobs running at its end: {running}")
    print(f"idle:   p50 {statistics.median(idle) * 1e3:6.2f} ms   p95 {p95(idle) * 1e3:6.2f} ms")
    print(f"loaded: p50 {statistics.median(loaded) * 1e3:6.2f} ms   p95 {p95(loaded) * 1e3:6.2f} ms")
    print(f"ratio loaded/idle p95: {p95(loaded) / p95(idle):.2f}x (goal <= 3x)")


if __name__ == "__main__":
    main()
