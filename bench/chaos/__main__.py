"""Run the whole chaos campaign and print its figures.

    .venv/bin/python -m bench.chaos            # the full counts (about 30-60 minutes on 2 cores)
    .venv/bin/python -m bench.chaos --quick    # a few of each (a few minutes)

Loopback only. Embedded: SIGKILL a worker mid-job, SIGKILL the server mid-upload/mid-job and
start it again, fill the data disk (a tmpfs) during uploads and separations. Scaled out: restart
redis-server and PostgreSQL under load, SIGKILL worker hosts. Each run is checked (see
packages/backend/tests/reliability/chaos.py); the exit status is 1 when anything was lost.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _measure  # noqa: F401  (puts packages/backend on sys.path first)
from tests.fixtures.songs import synth_song, write_wav
from tests.reliability.campaign import SERVER_SETTINGS, Faults, embedded_run
from tests.reliability.chaos import Tally, undisturbed_reference

from bench.chaos.scaled import scaled_run


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a few faults of each kind")
    p.add_argument("--worker-kills", type=int, default=50)
    p.add_argument("--server-kills", type=int, default=10)
    p.add_argument("--disk-fills", type=int, default=5)
    p.add_argument("--redis-restarts", type=int, default=5)
    p.add_argument("--postgres-restarts", type=int, default=5)
    p.add_argument("--host-kills", type=int, default=5)
    p.add_argument("--runs", type=int, default=5, help="embedded runs the faults are spread over")
    p.add_argument("--minutes", type=float, default=90.0, help="stop starting new runs after this")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.quick:
        args.worker_kills, args.server_kills, args.disk_fills = 5, 1, 1
        args.redis_restarts = args.postgres_restarts = args.host_kills = 1
        args.runs = 1
    deadline = time.time() + args.minutes * 60
    total = Tally()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="riffroom-chaos-") as tmp:
        root = Path(tmp)
        song = write_wav(root / "song.wav", synth_song(12.0, seed=11).mixture)
        with undisturbed_reference(root, **SERVER_SETTINGS) as reference:
            for i in range(args.runs):
                if time.time() > deadline:
                    break
                share = Faults(
                    worker_kills=_share(args.worker_kills, args.runs, i),
                    server_kills=_share(args.server_kills, args.runs, i),
                    disk_fills=_share(args.disk_fills, args.runs, i),
                )
                tally = embedded_run(root / f"embedded{i}", song, reference, share, args.seed + i)
                print(f"embedded run {i + 1}: " + " | ".join(tally.lines()[:2]), flush=True)
                total.add(tally)
            if time.time() < deadline and args.redis_restarts + args.postgres_restarts + args.host_kills:
                tally = scaled_run(
                    root / "scaled",
                    song,
                    reference,
                    redis_restarts=args.redis_restarts,
                    postgres_restarts=args.postgres_restarts,
                    host_kills=args.host_kills,
                    seed=args.seed,
                )
                print("scaled-out run: " + " | ".join(tally.lines()[:2]), flush=True)
                total.add(tally)
    print(f"\nchaos campaign, {(time.time() - started) / 60:.1f} min:")
    for line in total.lines():
        print("  " + line)
    return 0 if total.clean else 1


def _share(count: int, runs: int, i: int) -> int:
    return count // runs + (1 if i < count % runs else 0)


if __name__ == "__main__":
    raise SystemExit(main())
