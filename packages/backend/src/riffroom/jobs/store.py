"""Job state transitions, each one short write transaction that also appends the job's event.

Every change a client can see is a `JobEvent` row with the job's next sequence number, so the
API can fan events out and replay them to a resuming client. Writers that hold a lease pass
their worker id: a transition from a worker that lost its lease is ignored. Writers lock the
job row (FOR UPDATE on PostgreSQL; SQLite's writes are serialised by BEGIN IMMEDIATE), so two
nodes never hand out the same sequence number or lease.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Select, case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from riffroom.config import Settings
from riffroom.storage.db import Database
from riffroom.storage.models import ACTIVE_STATES, FINAL_STATES, Job, JobEvent, JobState, Song

log = logging.getLogger("riffroom.jobs")


def job_public(job: Job) -> dict[str, Any]:
    """The job JSON every client speaks (api/schemas.py's JobOut documents each field)."""
    return {
        "id": job.id,
        "song_id": job.song_id,
        "state": job.state,
        "progress": round(job.progress, 4),
        "stage": job.stage,
        "eta_seconds": job.eta_seconds,
        "ready_seconds": round(job.ready_seconds or 0.0, 4),
        "error": job.error,
        "error_code": job.error_code,
        "engine": job.engine,
        "model": job.model,
        "engine_used": job.engine_used,
        "model_used": job.model_used,
        "stems": job.stems,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "seq": job.seq,
    }


def dedupe_key(sha256: str, engine: str, model: str | None, stems: list[str] | None, owner: str = "") -> str:
    """Same owner, content and request => one job. Owners never share jobs (the stem cache is shared).

    The request is taken as asked: `auto` is part of the key unresolved, since which engine it
    becomes depends on the worker that runs it. So `auto` joins `auto` (and a finished `auto`
    answers the next one, whichever engine ran), while an explicit `demucs` or `dsp` is a job
    of its own; their stems still meet in the content cache when the same engine runs."""
    key = f"{sha256}:{engine}:{model or ''}:{','.join(sorted(stems)) if stems else '*'}"
    return f"{owner}/{key}" if owner else key


def job_timeout_seconds(settings: Settings, duration: float | None) -> float:
    """The hard limit of one separation: proportional to the song's length, with a floor."""
    return max(settings.job_timeout_min_seconds, settings.job_timeout_factor * (duration or 0.0))


def _event(session: Session, job: Job, kind: str, **fields: Any) -> dict[str, Any]:
    job.seq += 1
    job.updated_at = time.time()
    payload = {"type": kind, "job_id": job.id, "seq": job.seq, **fields, "at": round(job.updated_at, 4)}
    if kind in FINAL_STATES:
        payload["job"] = job_public(job)
        # Resuming clients get the final event alone, so earlier progress is no longer needed.
        session.execute(delete(JobEvent).where(JobEvent.job_id == job.id, JobEvent.type == "progress"))
    session.add(JobEvent(job_id=job.id, seq=job.seq, type=kind, payload=payload))
    session.info.setdefault("events", []).append(payload)  # published after the commit (Database.write)
    log.info("job %s %s seq=%d %s", job.id, kind, job.seq, _brief(fields))
    return payload


def _brief(fields: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("job",) and v is not None)


def _progress_event(session: Session, job: Job) -> None:
    _event(
        session,
        job,
        "progress",
        state=job.state,
        progress=round(job.progress, 4),
        stage=job.stage,
        eta_seconds=job.eta_seconds,
        ready_seconds=round(job.ready_seconds or 0.0, 4),
    )


def find_or_create(
    db: Database,
    song: Song,
    *,
    engine: str,
    model: str | None,
    stems: list[str] | None,
    max_attempts: int,
    timeout_seconds: float,
) -> tuple[Job, bool]:
    """The active job for the same request, or a new queued one. Returns (job, created)."""
    key = dedupe_key(song.sha256, engine, model, stems, song.owner_id)
    for _ in range(3):
        try:
            with db.write() as s:
                active = s.scalars(select(Job).where(Job.dedupe_key == key, Job.state.in_(ACTIVE_STATES))).first()
                if active is not None:
                    return active, False
                job = Job(
                    song_id=song.id,
                    dedupe_key=key,
                    engine=engine,
                    model=model,
                    stems=stems,
                    max_attempts=max_attempts,
                    timeout_seconds=timeout_seconds,
                )
                s.add(job)
                s.flush()
                log.info("job %s queued song=%s engine=%s", job.id, song.id, engine)
                return job, True
        except IntegrityError:  # another node inserted the same key first: join it
            continue
    raise RuntimeError("could not create or join a job")


def latest_done(db: Database, song: Song, key: str | None = None) -> Job | None:
    """The most recent finished job for this song's content (optionally for one request key)."""
    with db.read() as s:
        q = (
            select(Job)
            .join(Song, Song.id == Job.song_id)
            .where(Song.sha256 == song.sha256, Song.owner_id == song.owner_id, Job.state == JobState.done.value)
        )
        if key is not None:
            q = q.where(Job.dedupe_key == key)
        return s.scalars(q.order_by(Job.finished_at.desc()).limit(1)).first()


LISTENING_SECONDS = 60.0  # a range read this recent means a player is waiting for the job's song


def _fair_order(now: float) -> Select[tuple[Job]]:
    """The next queued job, fairest first: owners with fewer running jobs, then owners served
    least recently, then, within that owner's turn, a job a player is waiting for (a recent
    range read of its song: `listening_at`), then the oldest job. One owner's hundred queued
    jobs take turns with another owner's single job instead of starving it; listening changes
    which of an owner's jobs goes, never whose turn it is."""
    listening = case((Job.listening_at > now - LISTENING_SECONDS, 0), else_=1)
    owners = (
        select(
            Song.owner_id.label("owner_id"),
            func.sum(case((Job.state == JobState.running.value, 1), else_=0)).label("running"),
            func.max(Job.started_at).label("served_at"),
        )
        .join(Song, Song.id == Job.song_id)
        .group_by(Song.owner_id)
        .subquery()
    )
    return (
        select(Job)
        .join(Song, Song.id == Job.song_id)
        .join(owners, owners.c.owner_id == Song.owner_id)
        .where(Job.state == JobState.queued.value)
        .order_by(owners.c.running, func.coalesce(owners.c.served_at, 0.0), listening, Job.created_at)
        .limit(1)
    )


def claim_next(db: Database, worker_id: str, lease_seconds: float) -> Job | None:
    """Lease the next queued job to `worker_id`, owners taking turns (see _fair_order)."""
    with db.read() as s:
        if s.scalar(select(Job.id).where(Job.state == JobState.queued.value).limit(1)) is None:
            return None
    with db.write() as s:
        job = s.scalars(_fair_order(time.time()).with_for_update(skip_locked=True, of=Job)).first()
        if job is None:
            return None
        _lease(s, job, worker_id, time.time() + lease_seconds)
        return job


def claim(db: Database, job_id: str, worker_id: str, lease_seconds: float) -> Job | None:
    """Lease this job to `worker_id` if it is still queued (a queue may deliver an id twice)."""
    with db.write() as s:
        job = s.get(Job, job_id, with_for_update=True)
        if job is None or job.state != JobState.queued.value:
            return None
        _lease(s, job, worker_id, time.time() + lease_seconds)
        return job


def _lease(s: Session, job: Job, worker_id: str, expires_at: float) -> None:
    job.state = JobState.running.value
    job.lease_owner = worker_id
    job.lease_expires_at = expires_at
    job.attempts += 1
    job.started_at = time.time()
    job.stage = "starting"
    job.progress = 0.0
    job.ready_seconds = 0.0  # this attempt writes its partial data afresh
    job.engine_used = job.model_used = None  # this attempt's worker records its own (record_engine)
    _progress_event(s, job)


def record_engine(db: Database, job_id: str, worker_id: str, *, engine: str, model: str) -> bool:
    """Note which engine and model this job's worker runs (what `auto` became there)."""
    with db.write() as s:
        job = _owned(s, job_id, worker_id)
        if job is None:
            return False
        job.engine_used, job.model_used = engine, model
        return True


def heartbeat(db: Database, job_id: str, worker_id: str, lease_seconds: float) -> bool:
    """Renew the lease. False when the lease is lost (job reassigned, failed or cancelled)."""
    with db.write() as s:
        res = s.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == worker_id, Job.state == JobState.running.value)
            .values(lease_expires_at=time.time() + lease_seconds)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]


def cancel_requested(db: Database, job_id: str, worker_id: str) -> bool:
    """True when the job was cancelled or is no longer ours."""
    with db.read() as s:
        row = s.execute(select(Job.cancel_requested_at, Job.lease_owner, Job.state).where(Job.id == job_id)).first()
    if row is None:
        return True
    return row[0] is not None or row[1] != worker_id or row[2] != JobState.running.value


def _owned(s: Session, job_id: str, worker_id: str | None) -> Job | None:
    job = s.get(Job, job_id, with_for_update=True)
    if job is None or job.state != JobState.running.value:
        return None
    if worker_id is not None and job.lease_owner != worker_id:
        return None
    return job


def report_progress(
    db: Database,
    job_id: str,
    worker_id: str,
    *,
    progress: float,
    stage: str,
    eta: float | None,
    ready_seconds: float | None = None,
) -> None:
    """Record a progress step; `ready_seconds` never goes back within an attempt."""
    with db.write() as s:
        job = _owned(s, job_id, worker_id)
        if job is None:
            return
        job.progress = max(0.0, min(1.0, progress))
        job.stage = stage
        job.eta_seconds = eta
        if ready_seconds is not None:
            job.ready_seconds = max(job.ready_seconds or 0.0, ready_seconds)
        _progress_event(s, job)


def mark_listening(db: Database, song_id: str, *, min_interval: float = 5.0) -> None:
    """A player asked for a range of this song: its queued or running job is claimed first.

    Written at most every `min_interval` seconds per job, so range reads cost no write each."""
    now = time.time()
    with db.write() as s:
        s.execute(
            update(Job)
            .where(
                Job.song_id == song_id,
                Job.state.in_(ACTIVE_STATES),
                (Job.listening_at.is_(None)) | (Job.listening_at < now - min_interval),
            )
            .values(listening_at=now)
        )


def finish(db: Database, job_id: str, worker_id: str, result: dict[str, Any]) -> bool:
    """Record the manifest and mark done, in one transaction (the manifest is written last)."""
    with db.write() as s:
        job = _owned(s, job_id, worker_id)
        if job is None:
            return False
        job.result = result
        job.state = JobState.done.value
        job.ready_seconds = max(job.ready_seconds or 0.0, float(result.get("duration") or 0.0))
        job.progress = 1.0
        job.stage = "done"
        job.eta_seconds = 0.0
        job.finished_at = time.time()
        job.lease_owner = None
        _event(s, job, "done")
        return True


def _unfinished(s: Session, job_id: str, worker_id: str | None) -> Job | None:
    """The job, locked, if it has not ended and (when given) `worker_id` still holds its lease."""
    job = s.get(Job, job_id, with_for_update=True)
    if job is None or job.state in FINAL_STATES:
        return None
    if worker_id is not None and job.lease_owner != worker_id:
        return None
    return job


def _end(job: Job, state: JobState) -> None:
    job.state = state.value
    job.stage = state.value
    job.ready_seconds = 0.0  # its partial data is removed with it
    job.eta_seconds = None
    job.finished_at = time.time()
    job.lease_owner = None


def fail(db: Database, job_id: str, *, reason: str, code: str = "failed", worker_id: str | None = None) -> bool:
    with db.write() as s:
        job = _unfinished(s, job_id, worker_id)
        if job is None:
            return False
        job.error = reason[:1000]
        job.error_code = code
        _end(job, JobState.failed)
        _event(s, job, "failed", error=job.error, error_code=code)
        return True


def mark_cancelled(db: Database, job_id: str, worker_id: str | None = None) -> bool:
    with db.write() as s:
        job = _unfinished(s, job_id, worker_id)
        if job is None:
            return False
        _end(job, JobState.cancelled)
        _event(s, job, "cancelled")
        return True


def request_cancel(db: Database, job_id: str) -> Job | None:
    """Queued: cancelled at once. Running: flagged; the worker stops at its next chunk."""
    with db.write() as s:
        job = s.get(Job, job_id, with_for_update=True)
        if job is None:
            return None
        if job.state == JobState.queued.value:
            job.state = JobState.cancelled.value
            job.stage = "cancelled"
            job.finished_at = time.time()
            _event(s, job, "cancelled")
        elif job.state == JobState.running.value and job.cancel_requested_at is None:
            job.cancel_requested_at = time.time()
            job.stage = "cancelling"
            _progress_event(s, job)
        return job


def requeue(db: Database, job_id: str, *, reason: str, penalize: bool = True) -> str | None:
    """Put a running job whose worker vanished back in the queue, or fail it after max attempts.

    Returns the new state, or None when the job was not running.
    """
    with db.write() as s:
        job = s.get(Job, job_id, with_for_update=True)
        if job is None or job.state != JobState.running.value:
            return None
        if not penalize:
            job.attempts = max(0, job.attempts - 1)
        job.ready_seconds = 0.0  # the next attempt starts its partial data afresh
        if job.cancel_requested_at is not None:
            job.state = JobState.cancelled.value
            job.stage = "cancelled"
            job.finished_at = time.time()
            job.lease_owner = None
            _event(s, job, "cancelled")
        elif job.attempts >= job.max_attempts:
            job.state = JobState.failed.value
            job.error = f"{reason}; gave up after {job.attempts} attempts"
            job.error_code = "worker_crashed"
            job.stage = "failed"
            job.finished_at = time.time()
            job.lease_owner = None
            _event(s, job, "failed", error=job.error, error_code=job.error_code)
        else:
            job.state = JobState.queued.value
            job.stage = "queued"
            job.progress = 0.0
            job.eta_seconds = None
            job.lease_owner = None
            job.lease_expires_at = None
            log.info("job %s requeued (%s), attempt %d of %d", job.id, reason, job.attempts, job.max_attempts)
            _progress_event(s, job)
        return job.state


def running_jobs(db: Database) -> list[Job]:
    with db.read() as s:
        return list(s.scalars(select(Job).where(Job.state == JobState.running.value)))
