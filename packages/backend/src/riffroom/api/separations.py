"""Starting a song's separation, or joining the identical one already queued or running.

The one path for `POST /api/songs/{id}/separations` and for stems recomputed after the cache
evicted them (`GET` stems and peaks): the same dedupe key, the same timeout and the same
active-jobs quota, whichever request started the job.
"""

from __future__ import annotations

from sqlalchemy import select

from riffroom.api.context import ServerContext
from riffroom.api.quotas import check_job_quota
from riffroom.jobs import store
from riffroom.separation.engines import EngineRequest
from riffroom.storage.models import ACTIVE_STATES, Job, Song


def request_key(song: Song, request: EngineRequest) -> str:
    """The dedupe key of this request for this song (its owner and content)."""
    return store.dedupe_key(song.sha256, request.engine, request.model, request.stems, song.owner_id)


def start_or_join(ctx: ServerContext, song: Song, request: EngineRequest) -> tuple[Job, bool]:
    """The active job for this request, or a new queued one (429 when that passes the owner's
    active-jobs quota; joining costs nothing). Returns (job, created)."""
    if not _joins_active(ctx, request_key(song, request)):
        check_job_quota(ctx, song.owner_id)
    settings = ctx.settings
    job, created = store.find_or_create(
        ctx.db,
        song,
        engine=request.engine,
        model=request.model,
        stems=request.stems,
        max_attempts=settings.job_max_attempts,
        timeout_seconds=store.job_timeout_seconds(settings, song.duration),
    )
    if created:
        try:
            ctx.queue.enqueue(job.id)
        except Exception:  # never sent: a queued row nobody will run, so end it; the retry makes a new one
            store.fail(
                ctx.db, job.id, reason="the job queue was unreachable; start the separation again", code="unavailable"
            )
            raise
    return job, created


def _joins_active(ctx: ServerContext, key: str) -> bool:
    with ctx.db.read() as s:
        return s.scalar(select(Job.id).where(Job.dedupe_key == key, Job.state.in_(ACTIVE_STATES)).limit(1)) is not None
