"""Per-user quotas: songs, uploaded bytes, active separations. Over one: 429 with a clear message."""

from __future__ import annotations

from sqlalchemy import func, select

from riffroom.api.context import ServerContext
from riffroom.api.errors import ApiError
from riffroom.storage.models import ACTIVE_STATES, Job, Song


def _over(message: str) -> ApiError:
    return ApiError(429, "quota_exceeded", message)


def check_song_quota(ctx: ServerContext, owner: str, new_bytes: int = 0) -> None:
    """Raise 429 when one more song of `new_bytes` would pass the owner's song or byte quota."""
    settings = ctx.settings
    if not settings.quota_songs and not settings.quota_bytes:
        return
    with ctx.db.read() as s:
        count, used = s.execute(
            select(func.count(), func.coalesce(func.sum(Song.size_bytes), 0)).where(Song.owner_id == owner)
        ).one()
    if settings.quota_songs and count >= settings.quota_songs:
        raise _over(f"you have {count} songs, the most one account may keep; delete some to upload more")
    if settings.quota_bytes and used + new_bytes > settings.quota_bytes:
        raise _over(
            f"this upload would take your library to {(used + new_bytes) / 1e6:.0f} MB, over the "
            f"{settings.quota_bytes / 1e6:.0f} MB per account; delete some songs to upload more"
        )


def check_job_quota(ctx: ServerContext, owner: str) -> None:
    """Raise 429 when the owner already has as many queued or running separations as allowed."""
    limit = ctx.settings.quota_active_jobs
    if not limit:
        return
    with ctx.db.read() as s:
        active = (
            s.scalar(
                select(func.count())
                .select_from(Job)
                .join(Song, Song.id == Job.song_id)
                .where(Song.owner_id == owner, Job.state.in_(ACTIVE_STATES))
            )
            or 0
        )
    if active >= limit:
        raise _over(
            f"you already have {active} separations queued or running, the most one account may have; "
            "wait for one to finish or cancel one"
        )
