"""Turning rows into public JSON, and finding a song's published stems."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from riffroom.api.context import ServerContext
from riffroom.api.schemas import JobOut, SongOut
from riffroom.jobs.store import job_public
from riffroom.storage.models import Job, JobState, Song


@dataclass
class PublishedStems:
    job: Job
    cache_key: str
    names: list[str]


def latest_job(ctx: ServerContext, song: Song) -> Job | None:
    with ctx.db.read() as s:
        return s.scalars(select(Job).where(Job.song_id == song.id).order_by(Job.created_at.desc()).limit(1)).first()


def published_stems(ctx: ServerContext, song: Song) -> PublishedStems | None:
    """The owner's newest finished separation of this content whose cache entry still exists.

    Only the owner's own jobs count: another user's separation of the same content is reused by
    the stem cache underneath (a new job finishes at once), never shown through this song."""
    with ctx.db.read() as s:
        jobs = s.scalars(
            select(Job)
            .join(Song, Song.id == Job.song_id)
            .where(Song.sha256 == song.sha256, Song.owner_id == song.owner_id, Job.state == JobState.done.value)
            .order_by(Job.finished_at.desc())
            .limit(5)
        ).all()
    for job in jobs:
        result = job.result or {}
        key = str(result.get("cache_key", ""))
        if key and ctx.cache.is_published(key):
            return PublishedStems(job, key, list(result.get("stems", [])))
    return None


def evicted_job(ctx: ServerContext, song: Song) -> Job | None:
    """A finished job whose stems the cache has since evicted (recomputed on demand)."""
    with ctx.db.read() as s:
        return s.scalars(
            select(Job)
            .join(Song, Song.id == Job.song_id)
            .where(Song.sha256 == song.sha256, Song.owner_id == song.owner_id, Job.state == JobState.done.value)
            .order_by(Job.finished_at.desc())
            .limit(1)
        ).first()


def job_out(job: Job) -> JobOut:
    """The public job, from the one shape the job events also carry (`job_public`)."""
    return JobOut.model_validate(job_public(job))


def song_public(ctx: ServerContext, song: Song) -> SongOut:
    stems = published_stems(ctx, song)
    job = latest_job(ctx, song)
    return SongOut(
        id=song.id,
        name=song.name,
        title=song.title,
        artist=song.artist,
        original_filename=song.original_filename,
        format=song.format_name,
        duration=song.duration,
        sample_rate=song.sample_rate,
        channels=song.channels,
        size_bytes=song.size_bytes,
        sha256=song.sha256,
        created_at=song.created_at,
        stems=stems.names if stems else [],
        job=job_out(job) if job else None,
        stems_job=job_out(stems.job) if stems else None,
    )
