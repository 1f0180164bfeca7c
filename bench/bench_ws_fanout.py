"""WebSocket fan-out: event latency and server RSS with 1,000 subscribers to one job, vs 1 subscriber.

Latency is receive time minus the event's commit time (`at`, same machine clock).
Usage: bench_ws_fanout.py [--subscribers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import psutil
from websockets.asyncio.client import connect

# isort: off
import _measure  # puts packages/backend on sys.path first
from tests.api.harness import ServerProcess, run_server, upload
from tests.api.songfiles import make_song
# isort: on


async def subscriber(
    url: str, job_id: str, lat: list[float], ready: asyncio.Event, count: list[int], total: int
) -> None:
    async with connect(url, max_queue=None, open_timeout=60) as ws:
        await ws.send(json.dumps({"type": "subscribe", "jobs": [job_id]}))
        await ws.recv()  # snapshot
        count[0] += 1
        if count[0] == total:
            ready.set()
        async for raw in ws:
            now = time.time()
            msg = json.loads(raw)
            if msg.get("type") == "ping":
                await ws.send('{"type": "pong"}')
                continue
            if "at" in msg:
                lat.append(now - msg["at"])
            if msg.get("type") in ("done", "failed", "cancelled"):
                return


async def run_phase(srv: ServerProcess, song: Path, n: int, tag: bytes) -> tuple[list[float], int, int]:
    copy = song.with_name(f"{tag.hex()}.mp3")
    copy.write_bytes(song.read_bytes() + tag)
    with srv.client() as c:
        sid = upload(c, copy).json()["id"]
        # Queue a job while the worker is held busy by nothing: subscribe first, then let it run.
        job = c.post(f"/api/songs/{sid}/separations", json={"engine": "dsp"}).json()
    lat: list[float] = []
    ready = asyncio.Event()
    count = [0]
    proc = psutil.Process(srv.pid)
    before = proc.memory_info().rss
    tasks = [asyncio.create_task(subscriber(srv.ws_url, job["id"], lat, ready, count, n)) for _ in range(n)]
    await asyncio.wait_for(ready.wait(), 120)
    peak = proc.memory_info().rss
    while not all(t.done() for t in tasks):
        peak = max(peak, proc.memory_info().rss)
        await asyncio.sleep(0.05)
    for t in tasks:
        t.result()
    return lat, before, peak


def _main(root: Path) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    args = parser.parse_args()
    song = make_song(root / "songs", 120.0, "mp3", seed=9)
    with run_server(
        root / "srv",
        workers=1,
        dsp_chunk_seconds=2.0,
        progress_min_interval_seconds=0.05,
        ws_max_connections_per_client=args.subscribers + 10,
    ) as srv:
        one, rss0, _ = asyncio.run(run_phase(srv, song, 1, b"one"))
        many, _, peakn = asyncio.run(run_phase(srv, song, args.subscribers, b"many"))

    def p(x: list[float], q: float) -> float:
        return sorted(x)[max(0, int(len(x) * q) - 1)] * 1e3

    print(f"1 subscriber:    {len(one)} events, latency p50 {p(one, 0.5):6.1f} ms  p95 {p(one, 0.95):6.1f} ms")
    print(
        f"{args.subscribers} subscribers: {len(many)} deliveries, latency p50 {p(many, 0.5):6.1f} ms  "
        f"p95 {p(many, 0.95):6.1f} ms"
    )
    print(f"ratio p95 {args.subscribers} vs 1 subscriber: {p(many, 0.95) / max(p(one, 0.95), 1e-3):.2f}x")
    print(
        f"server RSS: {rss0 / 1e6:.0f} MB before, {peakn / 1e6:.0f} MB peak with {args.subscribers} subscribers "
        f"({(peakn - rss0) / args.subscribers / 1e3:.1f} kB per connection)"
    )


def main() -> None:
    _measure.run_in_temp_dir("riffroom-bench-ws-", _main)


if __name__ == "__main__":
    main()
