"""Soak: a steady mix against one embedded server for `--minutes` (20 by default), sampling the
server's RSS, open file descriptors, threads and SQLite WAL size every 10 s.

    .venv/bin/python bench/soak.py --minutes 20

The mix, in a loop: an upload of new content, a dsp separation of it, stem range reads, a burst
of WebSocket connect/subscribe/disconnect cycles (1,000 over the run) and a login (the server
has an account). First the same mix runs for `--warmup-seconds` (the server opens its database
pools, loads the dsp engine in its worker, fills its caches), its jobs finish and the server
idles: that state is the baseline. After the load the queued jobs finish (the worker runs behind
the uploads: the load is over only once the queue is empty), the server idles as long again and
the figures are compared (sampled every second over the last 40 s of idling: descriptors the
lowest, the others the median; see `at_rest`): RSS and descriptors against the baseline (goal
within 5 %; descriptors opened or closed since are listed by target), the WAL (the server cuts
it to zero bytes when no job runs: goal 0 after idle), and the 5xx count (goal 0).
Loopback only.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import _measure  # noqa: F401  (puts packages/backend on sys.path first)
import httpx
import psutil
from tests.api.accounts import PASSWORD, add_user
from tests.api.harness import ServerProcess, upload
from tests.api.wsclient import ws_connect
from tests.fixtures.songs import synth_song, write_wav

SAMPLE_SECONDS = 10.0
REST_SECONDS = 40.0  # the last part of each idle spell, sampled every second (a release falls in it)


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


def at_rest(srv: ServerProcess, seconds: float) -> tuple[dict[str, float], list[str]]:
    """A sample every second over `seconds` of idling: descriptors the lowest (and what they
    point at then), the rest the median. An idle server still works: every half minute it
    closes its pooled SQLite connections, and its pollers open one again within seconds, so the
    count swings by one connection; what it comes back to after each release is what a leak
    would raise."""
    samples, lowest, targets = [], None, []
    end = time.time() + seconds
    while time.time() < end:
        samples.append(sample(srv))
        if lowest is None or samples[-1]["fds"] < lowest:
            lowest, targets = samples[-1]["fds"], fd_targets(srv.pid)
        time.sleep(1.0)
    rest = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
    rest["fds"] = min(s["fds"] for s in samples)
    return rest, targets


def fd_targets(pid: int) -> list[str]:
    """What each open descriptor of `pid` points at (a file, socket:[n], pipe:[n], anon_inode:...)."""
    out = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        out.append(target.split(":[")[0] + ":" if ":[" in target else target)
    return sorted(out)


def _listed(targets: Counter[str]) -> str:
    return ", ".join(f"{n} x {t}" for t, n in sorted(targets.items())) or "none"


class Mix:
    """One client doing the soak's steady mix against `srv`, counting statuses."""

    def __init__(self, srv: ServerProcess, root: Path) -> None:
        self.srv, self.root = srv, root
        self.base = write_wav(root / "song.wav", synth_song(8.0, seed=3).mixture)
        self.c = httpx.Client(base_url=srv.base_url, timeout=60)
        self.rng = random.Random(5)
        self.statuses: dict[int, int] = {}
        self.rounds, self.ws_done, self.songs = 0, 0, []
        self.pending: list[str] = []  # job ids not yet seen done or failed

    def count(self, r: httpx.Response) -> httpx.Response:
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        return r

    def login(self) -> None:
        self.count(self.c.post("/api/auth/login", json={"username": "soak", "password": PASSWORD}))

    def one_round(self, ws_burst: int) -> None:
        self.rounds += 1
        n, c = self.rounds, self.c
        path = self.root / f"s{n}.wav"
        path.write_bytes(self.base.read_bytes() + f"soak{n}".encode())
        r = self.count(upload(c, path))
        path.unlink()
        if r.status_code in (200, 201):
            self.songs.append(r.json()["id"])
            job = self.count(c.post(f"/api/songs/{self.songs[-1]}/separations", json={"engine": "dsp"}))
            if job.status_code in (200, 201, 202):
                self.pending.append(job.json()["id"])
        for song_id in self.rng.sample(self.songs, min(3, len(self.songs))):
            start = self.rng.randint(0, 100_000)
            self.count(c.get(f"/api/songs/{song_id}/stems/vocals", headers={"Range": f"bytes={start}-{start + 65535}"}))
        cookie = c.cookies.get("riffroom_session", "")
        for _ in range(ws_burst):
            with ws_connect(self.srv.ws_url, additional_headers={"Cookie": f"riffroom_session={cookie}"}) as ws:
                ws.send(json.dumps({"type": "subscribe", "jobs": []}))
            self.ws_done += 1
        if n % 10 == 0:
            self.login()

    def drain(self, timeout: float = 1800.0) -> float:
        """Wait until every job the mix queued has ended: the load is over only once the queue is
        empty (the worker runs behind the uploads). Returns the seconds it took."""
        started = time.time()
        while self.pending and time.time() - started < timeout:
            state = self.count(self.c.get(f"/api/jobs/{self.pending[0]}")).json().get("state")
            if state in ("done", "failed", "cancelled"):
                self.pending.pop(0)
            else:
                time.sleep(0.5)
        return time.time() - started


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--ws-cycles", type=int, default=1000)
    p.add_argument("--warmup-seconds", type=float, default=60.0)
    p.add_argument("--idle-seconds", type=float, default=60.0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="riffroom-soak-") as tmp:
        root = Path(tmp)
        srv = ServerProcess(
            root, workers=1, dsp_chunk_seconds=4.0, prerender_formats="[]", quota_songs=0, quota_bytes=0
        )
        srv.data_dir.mkdir(parents=True, exist_ok=True)
        add_user(srv, "soak")
        srv.start()
        try:
            mix = Mix(srv, root)
            mix.login()
            warm_until = time.time() + args.warmup_seconds
            while time.time() < warm_until:
                mix.one_round(ws_burst=20)
                time.sleep(0.2)
            warm_drain = mix.drain()
            warm = (mix.rounds, mix.ws_done, dict(mix.statuses))
            mix.rounds, mix.ws_done, mix.statuses = 0, 0, {}
            time.sleep(max(0.0, args.idle_seconds - REST_SECONDS))
            baseline, fds_before = at_rest(srv, min(REST_SECONDS, args.idle_seconds))
            print(
                f"warm-up {args.warmup_seconds:g} s: {warm[0]} rounds, {warm[1]} WebSocket cycles, {warm[2]};"
                f" its queue drained {warm_drain:.0f} s after"
            )
            samples = [baseline]
            end = time.time() + args.minutes * 60
            last_sample = time.time()
            while time.time() < end:
                mix.one_round(ws_burst=20 if mix.ws_done < args.ws_cycles else 0)
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
            drained = mix.drain()
            print(f"the queue drained {drained:.0f} s after the load; idling {args.idle_seconds:g} s", flush=True)
            log_from = srv.log_path.stat().st_size
            time.sleep(max(0.0, args.idle_seconds - REST_SECONDS))
            after, fds_after = at_rest(srv, min(REST_SECONDS, args.idle_seconds))
            idle_log = srv.log_path.read_bytes()[log_from:].decode(errors="replace").splitlines()
            five = sum(v for k, v in mix.statuses.items() if k >= 500)
            print(
                f"\nsoak {args.minutes:g} min: {mix.rounds} rounds, {len(mix.songs)} songs, {mix.ws_done} WebSocket"
                f" cycles, statuses {dict(sorted(mix.statuses.items()))}"
            )
            print(f"5xx: {five}")
            for key in ("rss_mb", "fds", "threads", "wal_mb"):
                ratio = f"{after[key] / baseline[key]:.2f}x" if baseline[key] else "-"
                print(
                    f"{key}: baseline {baseline[key]:.1f}, peak {max(s[key] for s in samples):.1f},"
                    f" after idle {after[key]:.1f} ({ratio})"
                )
            opened = Counter(fds_after) - Counter(fds_before)
            closed = Counter(fds_before) - Counter(fds_after)
            print(f"descriptors opened since the baseline: {_listed(opened)}; closed: {_listed(closed)}")
            # Why an idle server kept its pooled connections (a request still holding one), if it did.
            kept = [line for line in idle_log if "pooled connections are in use" in line]
            print(f"idle releases refused after the load: {len(kept)}" + (f"; the last: {kept[-1]}" if kept else ""))
            return 0 if five == 0 else 1
        finally:
            srv.stop()


if __name__ == "__main__":
    raise SystemExit(main())
