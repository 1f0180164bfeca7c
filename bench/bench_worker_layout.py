"""Job throughput on this machine's cores: one worker using every core vs one single-thread
worker per core, demucs (random htdemucs of the published shape), through the real server.

Both layouts run the eager network (each server has a fresh data dir, so no compiled package):
the comparison is of layouts. Each layout gets the same queue of distinct songs (no cache hits)
submitted at once; the layouts alternate and each one's median is kept, so outside load hits both alike.
Usage: bench_worker_layout.py [--songs 4] [--seconds 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import _measure  # noqa: F401  (puts packages/backend on sys.path first)
from _measure import random_model_dir
from tests.api.harness import run_server, upload, wait_job
from tests.api.songfiles import make_song


def _queue(directory: Path, n: int, seconds: float, tag: str) -> list[Path]:
    base = make_song(directory, seconds, "wav", seed=5)
    songs = []
    for i in range(n):
        copy = directory / f"{tag}-{i}.wav"
        copy.write_bytes(base.read_bytes() + f"{tag}-{i}".encode())  # distinct content: no cache hit
        songs.append(copy)
    return songs


def run_layout(root: Path, models: Path, workers: int, threads: int, songs: list[Path]) -> float:
    """Seconds from submitting every song to the last job done."""
    with (
        run_server(root, workers=workers, torch_threads=threads, model_dir=str(models), demucs_compile="0") as srv,
        srv.client(timeout=120) as c,
    ):
        ids = [upload(c, s).json()["id"] for s in songs]
        started = time.perf_counter()
        jobs = [c.post(f"/api/songs/{i}/separations", json={"engine": "demucs"}).json()["id"] for i in ids]
        for job in jobs:
            state = wait_job(c, job, timeout=3600)
            assert state["state"] == "done", state
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--songs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="song length (4-minute songs take hours here)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "riffroom-bench")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    models = random_model_dir(args.work / "models")
    # torch_threads 0 = the engine's default: one single-thread window per core, side by side.
    layouts = {f"1 worker, {cores} cores": (1, 0), f"{cores} workers x 1 thread": (cores, 1)}
    times: dict[str, list[float]] = {name: [] for name in layouts}
    loads = []
    with tempfile.TemporaryDirectory(prefix="rr-layout-") as tmp:
        root = Path(tmp)
        for r in range(args.repeats):
            for name, (workers, threads) in layouts.items():
                songs = _queue(root / f"songs-{r}-{workers}", args.songs, args.seconds, f"{r}-{workers}")
                loads.append(os.getloadavg()[0])
                times[name].append(run_layout(root / f"srv-{r}-{workers}", models, workers, threads, songs))
                print(f"  run {r + 1} {name}: {times[name][-1]:.1f} s (load {loads[-1]:.1f})", flush=True)
    print(f"{args.songs} songs of {args.seconds:.0f} s, htdemucs (random weights, published shape), {cores} cores")
    print(f"median of {args.repeats} alternating runs; load average {min(loads):.1f}-{max(loads):.1f}")
    print(f"{'layout':<26}{'seconds':>10}{'jobs/hour':>11}{'4-min songs/hour':>18}")
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    for name, seconds in medians.items():
        per_hour = args.songs * 3600 / seconds
        print(f"{name:<26}{seconds:>10.1f}{per_hour:>11.0f}{per_hour * args.seconds / 240:>18.1f}")
    (one, many) = medians.values()
    print(f"throughput ratio ({cores} single-thread workers / 1 worker): {one / many:.2f}")


if __name__ == "__main__":
    main()
