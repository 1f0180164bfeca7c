"""Supervises the embedded worker subprocesses and the jobs they hold.

One thread, ticking twice a second: a dead worker is replaced and its job re-queued (or failed
after the maximum attempts); a job past its hard timeout, or past its cancel grace period, gets
its worker killed; a lease nobody renews is taken back: at once from a worker that is gone,
and from a live one only when it is stuck (unrenewed for several leases more; a late heartbeat
on a loaded machine is not a lost worker). Workers are started with the spawn
method (a fresh interpreter, never a fork of the API process) and load their model once.

In a cluster (`riffroom worker` on several hosts, `cluster=True`) other hosts' jobs are not ours
to time out or cancel, and a restart orphans nothing; but any supervisor takes back a lease that
nobody renews (its host died), and `on_requeue` sends the id to the queue again. (A queued job
whose message the broker lost is sent again by jobs/lost_messages.py.)

A job taken from a dead or killed worker leaves partial data (its finished stretches, in the stem
store): it is removed whenever such a job is re-queued, failed or cancelled here, and on start
and every minute this host's partial data of jobs no longer running is swept. With no job
running, the SQLite WAL is checkpointed and cut back to zero bytes every half minute, and the
pooled SQLite connections are closed when none is in use (their descriptors given back).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from riffroom import preload
from riffroom.config import WINDOW_THREADS_ENV, Settings, host_cores
from riffroom.jobs import store
from riffroom.storage.db import Database
from riffroom.storage.stems import StemCache, open_stem_store

log = logging.getLogger("riffroom.supervisor")

TICK_SECONDS = 0.5
STOP_GRACE_SECONDS = 5.0
SWEEP_SECONDS = 60.0  # how often this host's partial data of ended jobs is looked for
WAL_TRUNCATE_SECONDS = 30.0  # how often, with no job running, the SQLite WAL is given back (Database.truncate_wal)
STUCK_LEASES = 4.0  # a live worker is stuck once its lease went unrenewed for this many leases more
STUCK_MIN_SECONDS = 12.0  # ... and at least this long (short test leases on a loaded machine)
WORKER_MODULE = "riffroom.jobs.worker"  # `python -m WORKER_MODULE --worker-id ID --parent-pid PID`, settings on stdin


@dataclass
class WorkerProcess:
    id: str
    proc: subprocess.Popen[bytes]
    started_at: float = field(default_factory=time.time)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.error("worker %s (pid %d) did not die after SIGKILL", self.id, self.proc.pid)


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        cluster: bool = False,
        on_requeue: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.cluster = cluster
        self.on_requeue = on_requeue
        self.node = uuid.uuid4().hex[:8]
        self.slots: dict[int, WorkerProcess] = {}
        self._generation = 0
        self._last_sweep = time.time()
        self._last_wal_truncate = time.time()
        self._stems: StemCache | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.restarts = 0

    @property
    def stuck_after_seconds(self) -> float:
        """How long past its expiry a live worker's lease may go unrenewed before it counts as stuck."""
        return max(STUCK_MIN_SECONDS, STUCK_LEASES * self.settings.lease_seconds)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        # Jobs left running by a previous server are orphans: their workers died with it.
        for job in [] if self.cluster else store.running_jobs(self.db):
            self._requeue(job.id, reason="server restarted", penalize=False)
        self._sweep_partials(min_age_seconds=0.0 if not self.cluster else SWEEP_SECONDS)
        started = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(started,), name="riffroom-supervisor", daemon=True)
        self._thread.start()
        started.wait(timeout=30)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            workers = list(self.slots.values())
            self.slots.clear()
        for w in workers:
            if w.alive:
                w.proc.terminate()  # the worker hands its job back to the queue and exits
        deadline = time.time() + STOP_GRACE_SECONDS
        for w in workers:
            try:
                w.proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                w.kill()

    def wake(self) -> None:
        """Workers poll the queue; nothing to do (kept so a push-based backend can hook in)."""

    def status(self) -> dict[str, Any]:
        with self._lock:
            workers = list(self.slots.values())
        return {
            "wanted": self.settings.workers,
            "alive": sum(1 for w in workers if w.alive),
            "restarts": self.restarts,
            "workers": [{"id": w.id, "pid": w.proc.pid, "alive": w.alive} for w in workers],
        }

    # -- internals -------------------------------------------------------------------------------
    def _stem_store(self) -> StemCache:
        if self._stems is None:
            from riffroom.storage.blobs import open_blob_store

            self._stems = open_stem_store(
                self.settings, open_blob_store(self.settings.resolved_blob_url, self.settings)
            )
        return self._stems

    def _discard_partial(self, job_id: str) -> None:
        """A job whose worker died or was killed: its finished stretches go (a new attempt rewrites them)."""
        try:
            self._stem_store().partial(job_id).discard()
            self._stem_store().sweep_dead_writers()  # its staging dir (decode spool, stems being written)
        except Exception:  # the next attempt or the next sweep removes it
            log.exception("could not remove the partial data of job %s", job_id)

    def _sweep_partials(self, min_age_seconds: float) -> None:
        try:
            running = [job.id for job in store.running_jobs(self.db)]
            for job_id in self._stem_store().sweep_partials(running, min_age_seconds=min_age_seconds):
                log.info("removed partial data of job %s (not running)", job_id)
        except Exception:
            log.exception("sweeping partial data failed")

    def _requeue(self, job_id: str, *, reason: str, penalize: bool = True) -> None:
        state = store.requeue(self.db, job_id, reason=reason, penalize=penalize)
        if state is not None:
            self._discard_partial(job_id)
        if state == "queued" and self.on_requeue:
            try:
                self.on_requeue(job_id)
            except Exception:  # the row is queued; the next lease sweep or a restart sends it again
                log.exception("could not send job %s to the queue again", job_id)

    def _worker_env(self) -> dict[str, str]:
        """Several workers run one torch thread each (measured: more jobs per hour than one
        worker on every core), and a Demucs job running alone uses every core through its window
        threads (jobs/core_share.py); RIFFROOM_TORCH_THREADS set by the operator wins."""
        env = os.environ.copy()
        threads = self.settings.torch_threads or (1 if self.settings.workers > 1 else 0)
        env["RIFFROOM_TORCH_THREADS"] = str(threads)
        if not self.settings.torch_threads and self.settings.workers > 1:
            env[WINDOW_THREADS_ENV] = str(host_cores())
        return preload.separating_env(env)

    def _spawn(self, slot: int) -> None:
        self._generation += 1
        worker_id = f"{self.node}-{slot}-{self._generation}"
        proc = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, "--worker-id", worker_id, "--parent-pid", str(os.getpid())],
            stdin=subprocess.PIPE,
            env=self._worker_env(),
            close_fds=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(self.settings.model_dump_json().encode())
        proc.stdin.close()
        with self._lock:
            self.slots[slot] = WorkerProcess(worker_id, proc)
        log.info("worker %s started (pid %d)", worker_id, proc.pid)

    def _loop(self, started: threading.Event) -> None:
        # Workers are spawned from this long-lived thread only: PR_SET_PDEATHSIG fires when the
        # *thread* that started a child exits, so a short-lived pool thread would kill them.
        try:
            for slot in range(max(0, self.settings.workers)):
                self._spawn(slot)
        finally:
            started.set()
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # the supervisor must outlive any single bad tick
                log.exception("supervisor tick failed")

    def tick(self) -> None:
        now = time.time()
        with self._lock:
            slots = dict(self.slots)
        by_id = {w.id: w for w in slots.values()}

        for slot, w in slots.items():
            if w.alive or self._stop.is_set():
                continue
            code = w.proc.returncode
            log.warning("worker %s (pid %d) exited with code %s; replacing it", w.id, w.proc.pid, code)
            for job in store.running_jobs(self.db):
                if job.lease_owner == w.id:
                    self._requeue(job.id, reason=f"worker process died (exit code {code})")
            self.restarts += 1
            self._spawn(slot)

        if now - self._last_sweep > SWEEP_SECONDS:
            self._last_sweep = now
            self._sweep_partials(min_age_seconds=SWEEP_SECONDS)

        running = store.running_jobs(self.db)
        if not running and now - self._last_wal_truncate > WAL_TRUNCATE_SECONDS:
            self._last_wal_truncate = now
            self.db.truncate_wal()  # idle: the WAL's high-water mark is given back (busy: next time)
            self.db.release_idle_connections()  # and the descriptors a burst of requests opened (in use: next time)

        for job in running:
            owner = by_id.get(job.lease_owner or "")
            grace = self.settings.cancel_grace_seconds
            if owner is None and self.cluster:  # another host's job: only a dead host's lease is ours to take
                # Its own host kills a stuck worker after stuck_after_seconds and re-queues the job
                # itself; a lease still unrenewed a lease later means the host itself is gone.
                if (job.lease_expires_at or 0) < now - self.stuck_after_seconds - self.settings.lease_seconds:
                    self._requeue(job.id, reason="lease expired (its worker host stopped renewing it)")
            elif job.cancel_requested_at is not None and now > job.cancel_requested_at + grace:
                log.warning("job %s did not stop within the cancel grace period; killing its worker", job.id)
                store.mark_cancelled(self.db, job.id)
                if owner is not None:
                    owner.kill()
                self._discard_partial(job.id)
            elif job.started_at is not None and now > job.started_at + job.timeout_seconds:
                store.fail(
                    self.db,
                    job.id,
                    code="timeout",
                    reason=f"separation took longer than its {job.timeout_seconds:.0f} s limit",
                )
                if owner is not None:
                    owner.kill()
                self._discard_partial(job.id)
            elif owner is None and (job.lease_expires_at or 0) < now:
                self._requeue(job.id, reason="lease expired with no live worker")
            elif owner is not None and (job.lease_expires_at or 0) < now - self.stuck_after_seconds:
                # A live worker whose heartbeat is only late (a loaded machine starves a low-priority
                # process) keeps its job: taking it back would run the job twice. Only one that has
                # not renewed for far longer than a lease is stuck.
                log.warning(
                    "worker %s has not renewed the lease of job %s for %.0f s; killing it as stuck",
                    owner.id,
                    job.id,
                    now - (job.lease_expires_at or 0) + self.settings.lease_seconds,
                )
                owner.kill()  # its job is re-queued as the worker's death is handled next tick
