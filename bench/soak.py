"""Soak: a steady mix against one embedded server for `--minutes` (20 by default), sampling the
server's RSS, open file descriptors, threads and SQLite WAL size every 10 s.

    .venv/bin/python bench/soak.py --minutes 20

The mix, in a loop: an upload of new content, a dsp separation of it, stem range reads, a burst
of WebSocket connect/subscribe/disconnect cycles (1,000 over the run) and a login (the server
has an account). After the load it idles one minute and compares: RSS and descriptors against
the baseline taken after warm-up (goal within 5 %), the WAL after a checkpoint, and the 5xx count
(goal 0). Loopback only.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import _measure  # noqa: F401  (puts packages/backend on sys.path first)
import httpx
import psutil
from tests.api.accounts import PASSWORD, add_user
from tests.api.harness import ServerProcess, upload
from tests.api.wsclient import ws_connect
from tests.fixtures.songs import synth_song, write_wav

SAMPLE_SECONDS = 10.0


def sample(srv: ServerProcess) -> dict[str, float]:
    proc = psutil.Process(srv.pid)
    wal = srv.data_dir / "riffroom.db-wal"
    return {
        "t": time.time(),
        "rss_mb": proc.memory_info().rss / 1e6,
        "fds": float(proc.num_fds()),
        "threads": float(proc.num_threads()),
        "wal_mb": (wal.stat().st_size / 1e6) if wal.exists() else 0.0,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--ws-cycles", type=int, default=1000)
    p.add_argument("--idle-seconds", type=float, default=60.0)
    args = p.parse_args()
    rng = random.Random(5)
    statuses: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="riffroom-soak-") as tmp:
        root = Path(tmp)
        base = write_wav(root / "song.wav", synth_song(8.0, seed=3).mixture)
        srv = ServerProcess(
            root, workers=1, dsp_chunk_seconds=4.0, prerender_formats="[]", quota_songs=0, quota_bytes=0
        )
        srv.data_dir.mkdir(parents=True, exist_ok=True)
        add_user(srv, "soak")
        srv.start()
        try:
            c = httpx.Client(base_url=srv.base_url, timeout=60)

            def count(r: httpx.Response) -> httpx.Response:
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                return r

            def login() -> None:
                count(c.post("/api/auth/login", json={"username": "soak", "password": PASSWORD}))

            login()
            time.sleep(5)
            baseline = sample(srv)
            samples = [baseline]
            end = time.time() + args.minutes * 60
            ws_per_round, ws_done, n, last_sample, songs = 20, 0, 0, time.time(), []
            while time.time() < end:
                n += 1
                path = root / f"s{n}.wav"
                path.write_bytes(base.read_bytes() + f"soak{n}".encode())
                r = count(upload(c, path))
                path.unlink()
                if r.status_code in (200, 201):
                    songs.append(r.json()["id"])
                    count(c.post(f"/api/songs/{songs[-1]}/separations", json={"engine": "dsp"}))
                for song_id in rng.sample(songs, min(3, len(songs))):
                    start = rng.randint(0, 100_000)
                    count(
                        c.get(f"/api/songs/{song_id}/stems/vocals", headers={"Range": f"bytes={start}-{start + 65535}"})
                    )
                cookie = c.cookies.get("riffroom_session", "")
                for _ in range(ws_per_round if ws_done < args.ws_cycles else 0):
                    with ws_connect(srv.ws_url, additional_headers={"Cookie": f"riffroom_session={cookie}"}) as ws:
                        if songs:
                            ws.send(json.dumps({"type": "subscribe", "jobs": []}))
                    ws_done += 1
                if n % 10 == 0:
                    login()
                if time.time() - last_sample >= SAMPLE_SECONDS:
                    samples.append(sample(srv))
                    last_sample = time.time()
                    s = samples[-1]
                    print(
                        f"{(s['t'] - baseline['t']) / 60:5.1f} min  rss {s['rss_mb']:.0f} MB  fds {s['fds']:.0f}"
                        f"  threads {s['threads']:.0f}  wal {s['wal_mb']:.1f} MB",
                        flush=True,
                    )
                time.sleep(0.2)
            time.sleep(args.idle_seconds)
            after = sample(srv)
            five = sum(v for k, v in statuses.items() if k >= 500)
            print(
                f"\nsoak {args.minutes:g} min: {n} rounds, {len(songs)} songs, {ws_done} WebSocket cycles,"
                f" statuses {dict(sorted(statuses.items()))}"
            )
            print(f"5xx: {five}")
            for key in ("rss_mb", "fds", "threads", "wal_mb"):
                ratio = after[key] / baseline[key] if baseline[key] else float("nan")
                print(
                    f"{key}: baseline {baseline[key]:.1f}, peak {max(s[key] for s in samples):.1f},"
                    f" after idle {after[key]:.1f} ({ratio:.2f}x)"
                )
            return 0 if five == 0 else 1
        finally:
            srv.stop()


if __name__ == "__main__":
    raise SystemExit(main())
