"""Run the whole chaos campaign and print its figures.

    .venv/bin/python -m bench.chaos            # the full counts (about 30-60 minutes on 2 cores)
    .venv/bin/python -m bench.chaos --quick    # a few of each (a few minutes)

Loopback only. Embedded: SIGKILL a worker mid-job, SIGKILL the server mid-upload/mid-job and
start it again, fill the data disk (a tmpfs) during uploads and separations, hold the SQLite
file locked past busy_timeout while a job runs and an upload arrives; WebSocket clients
behind a proxy that delays every chunk and drops or stalls connections at random (bench/chaos/
ws_faults.py) while workers are SIGKILLed. Scaled out: restart
redis-server and PostgreSQL under load, SIGKILL worker hosts. Each run is checked (see
packages/backend/tests/reliability/chaos.py); the exit status is 1 when anything was lost.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _measure  # noqa: F401  (puts packages/backend on sys.path first)
from tests.api.harness import ServerProcess
from tests.fixtures.songs import synth_song, write_wav
from tests.reliability.campaign import SERVER_SETTINGS, Faults, embedded_run
from tests.reliability.chaos import Tally, stray_processes, undisturbed_reference
from tests.scale.test_cluster import WorkerHost

from bench.chaos.scaled import scaled_run
from bench.chaos.ws_faults import ws_fault_run

PARTS = ("embedded", "ws", "scaled")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a few faults of each kind")
    p.add_argument("--worker-kills", type=int, default=50)
    p.add_argument("--server-kills", type=int, default=10)
    p.add_argument("--disk-fills", type=int, default=5)
    p.add_argument("--db-locks", type=int, default=5, help="SQLite held locked past busy_timeout mid-job")
    p.add_argument("--redis-restarts", type=int, default=5)
    p.add_argument("--postgres-restarts", type=int, default=5)
    p.add_argument("--host-kills", type=int, default=5)
    p.add_argument("--ws-faults", type=int, default=30, help="WebSocket drops + stalls through the proxy")
    p.add_argument("--ws-worker-kills", type=int, default=5, help="worker SIGKILLs during the WebSocket run")
    p.add_argument("--parts", default=",".join(PARTS), help="which parts to run, comma-separated: " + ", ".join(PARTS))
    p.add_argument("--runs", type=int, default=5, help="embedded runs the faults are spread over")
    p.add_argument("--minutes", type=float, default=90.0, help="stop starting new runs after this")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--start-timeout", type=float, default=300.0, help="seconds a (re)started server may take to come up"
    )
    args = p.parse_args()
    # The harness gives a server 60 s to come up; under a load average of 20+ a restart after a
    # SIGKILL can take longer, and the campaign measures losses, not start-up time.
    ServerProcess.start.__defaults__ = (args.start_timeout,)
    WorkerHost.start.__defaults__ = (args.start_timeout,)
    if args.quick:
        args.worker_kills, args.server_kills, args.disk_fills, args.db_locks = 5, 1, 1, 1
        args.redis_restarts = args.postgres_restarts = args.host_kills = 1
        args.runs = 1
        args.ws_faults, args.ws_worker_kills = 4, 1
    parts = set(args.parts.split(","))
    if not parts <= set(PARTS):
        p.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))} (known: {', '.join(PARTS)})")
    deadline = time.time() + args.minutes * 60
    total = Tally()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="riffroom-chaos-") as tmp:
        root = Path(tmp)
        song = write_wav(root / "song.wav", synth_song(12.0, seed=11).mixture)
        with ExitStack() as stack:
            reference = _reference(stack, root)
            for i in range(args.runs if "embedded" in parts else 0):
                if time.time() > deadline:
                    break
                share = Faults(
                    worker_kills=_share(args.worker_kills, args.runs, i),
                    server_kills=_share(args.server_kills, args.runs, i),
                    disk_fills=_share(args.disk_fills, args.runs, i),
                    db_locks=_share(args.db_locks, args.runs, i),
                )
                tally = embedded_run(root / f"embedded{i}", song, reference, share, args.seed + i)
                print(f"embedded run {i + 1}: " + " | ".join(tally.lines()), flush=True)
                total.add(tally)
            if "ws" in parts and time.time() < deadline and args.ws_faults + args.ws_worker_kills:
                tally, counts = ws_fault_run(
                    root / "ws",
                    song,
                    reference,
                    ws_faults=args.ws_faults,
                    worker_kills=args.ws_worker_kills,
                    seed=args.seed,
                )
                print("websocket-fault run: " + " | ".join(tally.lines()), flush=True)
                print(f"  proxy: {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}", flush=True)
                total.add(tally)
            if (
                "scaled" in parts
                and time.time() < deadline
                and args.redis_restarts + args.postgres_restarts + args.host_kills
            ):
                tally = scaled_run(
                    root / "scaled",
                    song,
                    reference,
                    redis_restarts=args.redis_restarts,
                    postgres_restarts=args.postgres_restarts,
                    host_kills=args.host_kills,
                    seed=args.seed,
                )
                print("scaled-out run: " + " | ".join(tally.lines()), flush=True)
                total.add(tally)
    print(f"\nchaos campaign, {(time.time() - started) / 60:.1f} min:")
    for line in total.lines():
        print("  " + line)
    return 0 if total.clean else 1


def _reference(stack: ExitStack, root: Path) -> Callable[[Path], dict[str, str]]:
    """The undisturbed server, tried up to 3 times: on a loaded machine it can take longer than
    the harness's 60 s to come up, and the campaign should not die of that."""
    for attempt in range(3):
        where = root / f"reference{attempt}"
        try:
            return stack.enter_context(undisturbed_reference(where, **SERVER_SETTINGS))
        except RuntimeError as exc:
            print(f"the undisturbed server did not come up (attempt {attempt + 1}): {str(exc)[:80]}", flush=True)
            for pid in (line.split()[1].rstrip(":") for line in stray_processes(where)):
                os.kill(int(pid), signal.SIGKILL)  # the server that came up too slowly
    raise RuntimeError("the undisturbed server did not come up in 3 attempts")


def _share(count: int, runs: int, i: int) -> int:
    return count // runs + (1 if i < count % runs else 0)


if __name__ == "__main__":
    raise SystemExit(main())
