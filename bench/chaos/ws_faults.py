"""The WebSocket part of the campaign: several clients follow every job through a proxy that
delays every chunk, drops connections and stalls them at random moments, while workers are
SIGKILLed mid-job. Each client must end with each job's final event exactly once (it resumes with
the protocol's replay after every drop), and the usual checks of chaos.py hold."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from tests.api.harness import ServerProcess
from tests.reliability.campaign import SERVER_SETTINGS
from tests.reliability.chaos import Run, Tally, salted, stray_processes
from tests.reliability.follower import Follower
from tests.reliability.ws_proxy import FaultyProxy

IN_FLIGHT = 2  # jobs running at once while the faults land


def ws_fault_run(
    root: Path,
    song: Path,
    reference: Callable[[Path], dict[str, str]],
    *,
    ws_faults: int,
    worker_kills: int,
    seed: int,
    clients: int = 3,
) -> tuple[Tally, dict[str, int]]:
    """One embedded server's run; its tally and the proxy's counters."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    srv = ServerProcess(root, workers=2, database_url=f"sqlite:///{root / 'riffroom.db'}", **SERVER_SETTINGS)
    run = Run(srv, root / "cache", root / "riffroom.db")
    srv.start()
    try:
        with FaultyProxy(srv.port, seed=seed, faults=ws_faults) as proxy, ExitStack() as stack:
            followers = [stack.enter_context(Follower(lambda: proxy.ws_url)) for _ in range(clients)]
            _drive(run, followers, proxy, song, root, worker_kills, rng)
            run.check(followers[0], reference)
            for n, follower in enumerate(followers[1:], start=2):
                _check_client(run, follower, n)
            for n, follower in enumerate(followers, start=1):
                if follower.seq_went_back:
                    run.tally.problems.append(f"client {n}: seq went back {follower.seq_went_back} times")
            counts = dict(proxy.counts)
            counts["client reconnects"] = sum(f.reconnects for f in followers)
    finally:
        srv.stop()
    run.tally.faults["ws connection dropped (reset)"] += counts.get("drops", 0)
    run.tally.faults["ws connection stalled"] += counts.get("stalls", 0)
    run.tally.leftovers += stray_processes(root)
    return run.tally, counts


def _drive(
    run: Run,
    followers: list[Follower],
    proxy: FaultyProxy,
    song: Path,
    root: Path,
    worker_kills: int,
    rng: random.Random,
) -> None:
    """Keep jobs running until every planned proxy fault and worker kill is made."""
    n = 0
    deadline = time.time() + 60 * 30
    with run.srv.client() as c:
        while (proxy.faults_done < proxy.plan.faults or worker_kills > 0) and time.time() < deadline:
            active = [j for j in run.jobs if c.get(f"/api/jobs/{j}").json()["state"] in ("queued", "running")]
            if len(active) >= IN_FLIGHT:
                time.sleep(0.2)
                continue
            n += 1
            info = run.upload(c, salted(song, root, f"w{n}"))
            assert info is not None, "the disk is not filled in this run"
            job_id = run.separate(c, info["id"], followers[0])
            for follower in followers[1:]:
                follower.follow(job_id)
            if worker_kills > 0 and run.kill_worker_of(c, job_id, rng):
                worker_kills -= 1


def _check_client(run: Run, follower: Follower, n: int) -> None:
    """Run.check counted the first client's final events; the same for another one."""
    t = run.tally
    if not follower.wait_finals(list(run.jobs), timeout=30):
        t.problems.append(f"client {n} is still waiting for final events")
    wrong = [j for j in run.jobs if follower.finals[j] != 1]
    t.final_events_wrong += len(wrong)
    t.problems += [f"client {n}, job {j}: {follower.finals[j]} final events" for j in wrong]
