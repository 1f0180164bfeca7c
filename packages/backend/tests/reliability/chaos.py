"""The chaos campaign's parts shared by the CI subset (test_chaos_fast.py) and the bench
(bench/chaos/): faults at random moments against a real server, then the checks after each run.

Checks: every accepted upload present and intact (hash of the stored blob); every job `done`, or
`failed` with a reason after its attempts; no job run by two workers at once (from the workers'
own log lines and the kill times); stems bit-identical to an undisturbed run; no temp files,
partial stems or stray processes left; each final event reached the client exactly once.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import re
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.api.harness import ServerProcess, upload, wait_job, wait_until
from tests.reliability.follower import Follower

STEMS = ("vocals", "drums", "bass", "other")
FINAL_STATES = ("done", "failed", "cancelled")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def salted(base: Path, directory: Path, salt: str) -> Path:
    """New content (so a new separation), the same audio but for what a decoder makes of the tail."""
    out = directory / f"{salt}-{base.name}"
    out.write_bytes(base.read_bytes() + salt.encode())
    return out


def stem_hashes(client: httpx.Client, song_id: str) -> dict[str, str]:
    """SHA-256 of each stem's samples, bit for bit (the WAV header's PEAK chunk carries a write time)."""
    import io

    import soundfile

    out = {}
    for stem in STEMS:
        r = client.get(f"/api/songs/{song_id}/stems/{stem}", params={"format": "wav"})
        assert r.status_code == 200, r.text
        samples, rate = soundfile.read(io.BytesIO(r.content), dtype="float32", always_2d=True)
        out[stem] = hashlib.sha256(samples.tobytes() + str((rate, samples.shape)).encode()).hexdigest()
    return out


@contextmanager
def undisturbed_reference(root: Path, **settings: Any) -> Iterator[Callable[[Path], dict[str, str]]]:
    """A server nobody disturbs: `reference(path)` separates the same file there, once, and gives
    its stems' hashes (the disturbed run must match them bit for bit)."""
    srv = ServerProcess(root / "reference", workers=1, **settings)
    srv.root.mkdir(parents=True, exist_ok=True)
    srv.start()
    known: dict[Path, dict[str, str]] = {}

    def reference(path: Path) -> dict[str, str]:
        if path not in known:
            with srv.client() as c:
                song_id = upload(c, path).json()["id"]
                job = c.post(f"/api/songs/{song_id}/separations", json={"engine": "dsp"}).json()
                assert wait_job(c, job["id"], timeout=180)["state"] == "done"
                known[path] = stem_hashes(c, song_id)
        return known[path]

    try:
        yield reference
    finally:
        srv.stop()


@dataclass
class Tally:
    """What one or more runs did and found; every `*_lost`, duplicate and leftover should be 0."""

    runs: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    uploads: int = 0
    uploads_lost: int = 0
    jobs: int = 0
    jobs_lost: int = 0
    jobs_failed_with_reason: int = 0
    double_runs: int = 0
    stem_mismatches: int = 0
    final_events_wrong: int = 0
    leftovers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("runs", "uploads", "uploads_lost", "jobs", "jobs_lost", "jobs_failed_with_reason"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("double_runs", "stem_mismatches", "final_events_wrong"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.faults.update(other.faults)
        self.leftovers += other.leftovers
        self.problems += other.problems

    @property
    def clean(self) -> bool:
        losses = self.uploads_lost + self.jobs_lost + self.double_runs + self.stem_mismatches + self.final_events_wrong
        return losses == 0 and not self.leftovers and not self.problems

    def lines(self) -> list[str]:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        return [
            f"runs {self.runs}; faults injected: {faults}",
            f"uploads accepted {self.uploads}, lost or damaged {self.uploads_lost}",
            f"jobs {self.jobs}, lost {self.jobs_lost} (failed with a reason after max attempts: "
            f"{self.jobs_failed_with_reason}), run twice at once {self.double_runs}",
            f"stems differing from the undisturbed run {self.stem_mismatches}; final events not exactly once "
            f"{self.final_events_wrong}",
            f"leftovers {len(self.leftovers)}{': ' + '; '.join(self.leftovers[:5]) if self.leftovers else ''}",
            *[f"problem: {p}" for p in self.problems[:10]],
        ]


_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ worker (\S+): job (\S+) (runs|done|failed)")


_SERVER_ERROR = re.compile(r"riffroom\.access: \S+ \S+ 50[0124-689] ")  # 503 and 507 are answers; the rest are bugs
_SUPERVISOR_KILL = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ riffroom\.supervisor: worker (\S+) .*(killing it|exited with code)"
)


def supervisor_deaths(log_text: str) -> dict[str, float]:
    """Workers the server itself killed (stuck, timed out) or saw exit: when, by its own log."""
    deaths: dict[str, float] = {}
    for line in log_text.splitlines():
        m = _SUPERVISOR_KILL.match(line)
        if m:
            deaths.setdefault(m.group(2), _when(m.group(1)))
    return deaths


def _when(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def overlapping_runs(log_text: str, deaths: dict[str, float]) -> list[str]:
    """Jobs two workers ran at the same time: intervals from each worker's `job X runs` line to its
    `done`/`failed` line, its next job, or its death (a kill we made, or the end of the log)."""
    spans: dict[str, list[tuple[float, float, str]]] = {}
    open_by_worker: dict[str, tuple[str, float]] = {}
    end_of_log = time.time()
    for line in log_text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        at, worker, job, what = _when(m.group(1)), m.group(2), m.group(3).rstrip(":"), m.group(4)
        if worker in open_by_worker:
            running, since = open_by_worker.pop(worker)
            spans.setdefault(running, []).append((since, at, worker))
        if what == "runs":
            open_by_worker[worker] = (job, at)
    for worker, (job, since) in open_by_worker.items():
        spans.setdefault(job, []).append((since, deaths.get(worker, end_of_log), worker))
    doubles = []
    for job, intervals in spans.items():
        intervals.sort()
        for (_s1, e1, w1), (s2, _e2, w2) in itertools.pairwise(intervals):
            if s2 < e1 - 0.05 and w1 != w2:
                doubles.append(f"job {job}: {w1} and {w2} overlapped by {e1 - s2:.2f} s")
    return doubles


def stray_processes(root: Path) -> list[str]:
    """Processes (ffmpeg, workers, servers) whose command line or environment names this run's
    directory (a worker's command line does not: it inherits the server's RIFFROOM_CACHE_DIR)."""
    out = []
    for proc in psutil.process_iter(["pid", "cmdline", "environ"]):
        try:
            named = [*(proc.info["cmdline"] or ()), *(proc.info["environ"] or {}).values()]
            if any(str(root) in part for part in named) and proc.pid != os.getpid():
                out.append(f"pid {proc.pid}: {' '.join(proc.info['cmdline'] or ())[:120]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out


def leftover_files(srv: ServerProcess, cache_dir: Path) -> list[str]:
    """Temp uploads, blob temp files, staging dirs and partial stems once every job has ended."""
    found = []
    for where in (srv.data_dir / "tmp", srv.data_dir / "blobs" / ".tmp", cache_dir / "tmp", cache_dir / "partial"):
        if where.exists():
            found += [f"{p.relative_to(srv.root)}" for p in where.rglob("*") if p.is_file()]
    return found


@dataclass
class Run:
    """One server's campaign: what was accepted, and the faults made against it."""

    srv: ServerProcess
    cache_dir: Path
    db_path: Path
    uploads: dict[str, str] = field(default_factory=dict)  # song id -> sha256 of the file sent
    paths: dict[str, Path] = field(default_factory=dict)  # song id -> the file sent
    jobs: dict[str, str] = field(default_factory=dict)  # job id -> song id
    deaths: dict[str, float] = field(default_factory=dict)  # worker id -> when we killed it
    tally: Tally = field(default_factory=Tally)

    def upload(self, c: httpx.Client, path: Path) -> dict[str, Any] | None:
        r = _retrying_503(lambda: upload(c, path))
        if r.status_code == 507:
            return None
        assert r.status_code in (200, 201), r.text
        song: dict[str, Any] = r.json()
        self.uploads[song["id"]] = sha256_file(path)
        self.paths[song["id"]] = path
        return song

    def separate(self, c: httpx.Client, song_id: str, follower: Follower) -> str:
        r = _retrying_503(lambda: c.post(f"/api/songs/{song_id}/separations", json={"engine": "dsp"}))
        assert r.status_code in (200, 202), r.text
        job_id: str = r.json()["id"]
        self.jobs[job_id] = song_id
        follower.follow(job_id)
        return job_id

    def kill_worker_of(self, c: httpx.Client, job_id: str, rng: random.Random) -> bool:
        """SIGKILL the worker running `job_id` at a random moment of its run; False if it ended first."""
        try:
            wait_until(lambda: c.get(f"/api/jobs/{job_id}").json()["state"] != "queued", timeout=60)
        except AssertionError:
            return False
        time.sleep(rng.uniform(0.0, 0.6))
        rows = self._query("SELECT state, lease_owner FROM jobs WHERE id = ?", job_id)
        if not rows or rows[0][0] != "running" or not rows[0][1]:
            return False
        workers = self.srv.ready()["checks"]["workers"]["workers"]
        victim = next((w for w in workers if w["alive"] and str(rows[0][1]).endswith(str(w["id"]))), None)
        if victim is None:
            return False
        os.kill(victim["pid"], signal.SIGKILL)
        self.deaths[str(victim["id"])] = time.time()
        self.tally.faults["worker SIGKILL mid-job"] += 1
        return True

    def _query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def kill_server(self, reason: str) -> None:
        assert self.srv.proc is not None
        self.srv.proc.send_signal(signal.SIGKILL)
        self.srv.proc.wait()
        self.srv.proc = None
        log_lines = self.srv.log_path.read_text(errors="replace").splitlines()
        for worker_id in {m.group(2) for m in map(_LINE.match, log_lines) if m}:
            self.deaths.setdefault(worker_id, time.time())
        self.tally.faults[reason] += 1
        self.srv.start()

    def check(self, follower: Follower, reference: Callable[[Path], dict[str, str]]) -> Tally:
        """The checks after the run, added to this run's tally (which it returns)."""
        t = self.tally
        t.runs += 1
        t.uploads += len(self.uploads)
        t.jobs += len(self.jobs)
        with self.srv.client() as c:
            for song_id, sha in self.uploads.items():
                blob = self.srv.data_dir / "blobs" / "songs" / sha[:2] / sha
                song = c.get(f"/api/songs/{song_id}")
                if song.status_code != 200 or not blob.is_file() or sha256_file(blob) != sha:
                    t.uploads_lost += 1
                    t.problems.append(f"upload {song_id} missing or damaged")
            for job_id, song_id in self.jobs.items():
                job = wait_job(c, job_id, timeout=240)
                if job["state"] == "done":
                    if stem_hashes(c, song_id) != reference(self.paths[song_id]):
                        t.stem_mismatches += 1
                        t.problems.append(f"job {job_id}: stems differ from the undisturbed run")
                elif job["state"] == "failed" and job.get("error"):
                    t.jobs_failed_with_reason += 1
                else:
                    t.jobs_lost += 1
                    t.problems.append(f"job {job_id} ended {job['state']}: {job.get('error')}")
        if not follower.wait_finals(list(self.jobs), timeout=30):
            t.problems.append("the client is still waiting for final events")
        wrong = [j for j in self.jobs if follower.finals[j] != 1]
        t.final_events_wrong += len(wrong)
        t.problems += [f"job {j}: {follower.finals[j]} final events" for j in wrong]
        log_text = self.srv.log_path.read_text(errors="replace")
        deaths = supervisor_deaths(log_text)
        for worker, at in self.deaths.items():  # the kills we made, or the server's, whichever came first
            deaths[worker] = min(at, deaths.get(worker, at))
        t.double_runs += len(doubles := overlapping_runs(log_text, deaths))
        t.problems += doubles
        t.leftovers += leftover_files(self.srv, self.cache_dir)
        t.problems += [
            f"server answered: {line[-120:]}" for line in log_text.splitlines() if _SERVER_ERROR.search(line)
        ]
        return t


def _retrying_503(send: Callable[[], httpx.Response], patience: float = 60.0) -> httpx.Response:
    """What a good client does with 503 + Retry-After (a database busy for a moment): wait, send again."""
    deadline = time.monotonic() + patience
    while True:
        r = send()
        if r.status_code != 503 or time.monotonic() > deadline:
            return r
        time.sleep(float(r.headers.get("Retry-After", "1")))
