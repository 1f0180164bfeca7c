"""Songs: streamed upload, list, lookup by content hash, rename, delete, start a separation."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from riffroom.api.deps import CtxDep, OwnerDep, SongDep
from riffroom.api.errors import ApiError, riffroom_status
from riffroom.api.quotas import check_job_quota, check_song_quota
from riffroom.api.schemas import ErrorOut, JobOut, SeparationRequest, SongList, SongOut, SongPatch
from riffroom.api.upload import receive_upload, safe_label
from riffroom.api.views import published_stems, song_public
from riffroom.errors import BadInputError, RiffRoomError
from riffroom.jobs import store
from riffroom.storage.models import ACTIVE_STATES, Job, Song

log = logging.getLogger("riffroom.api.songs")
router = APIRouter(prefix="/api/songs", tags=["songs"])
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$")]
_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": ErrorOut} for c in (400, 401, 404, 409, 413, 415, 422, 429)}


@router.post(
    "",
    response_model=SongOut,
    status_code=201,
    responses=_ERRORS,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
            "required": True,
        }
    },
)
async def upload_song(request: Request, response: Response, ctx: CtxDep, owner: OwnerDep) -> dict[str, Any]:
    """Upload a song (multipart field `file`). Content already in the library answers 200 with it."""
    limit = ctx.settings.max_upload_bytes
    upload = await receive_upload(request, ctx.tmp_dir, limit)
    try:
        song, created = await run_in_threadpool(_store_upload, ctx, owner, upload)
    finally:
        upload.path.unlink(missing_ok=True)
    response.status_code = 201 if created else 200
    return await run_in_threadpool(song_public, ctx, song)


def _store_upload(ctx: Any, owner: str, upload: Any) -> tuple[Song, bool]:
    with ctx.db.read() as s:
        existing = s.scalars(select(Song).where(Song.owner_id == owner, Song.sha256 == upload.sha256)).first()
    if existing is not None:
        return existing, False
    check_song_quota(ctx, owner, upload.size)
    from riffroom.audio.probe import probe

    try:
        info = probe(upload.path, ctx.settings)
    except BadInputError as exc:
        label = safe_label(upload.filename) or "the upload"
        raise ApiError(riffroom_status(exc), exc.code, f"{label}: {exc}") from None
    cap = ctx.settings.max_duration_seconds
    if info.duration and info.duration > cap:  # headers can lie short (decoding enforces it), not long
        label = safe_label(upload.filename) or "the upload"
        raise ApiError(
            413, "too_long", f"{label}: {info.duration / 60:.0f} minutes long, over the {cap / 60:.0f} minute limit"
        )
    key = f"songs/{upload.sha256[:2]}/{upload.sha256}"
    if not ctx.blobs.exists(key):
        ctx.blobs.put_file(key, upload.path)
    label = safe_label(upload.filename)
    stem_of_label = label.rsplit(".", 1)[0] if "." in label else label
    song = Song(
        owner_id=owner,
        sha256=upload.sha256,
        blob_key=key,
        size_bytes=upload.size,
        name=(info.title or stem_of_label or "Untitled")[:300],
        original_filename=label,
        title=info.title,
        artist=info.artist,
        format_name=info.format_name,
        duration=float(info.duration or 0.0),
        sample_rate=info.sample_rate,
        channels=info.channels,
    )
    try:
        with ctx.db.write() as s:
            s.add(song)
    except IntegrityError:  # the same content arrived twice at once: the first one wins
        with ctx.db.read() as s:
            return s.scalars(select(Song).where(Song.owner_id == owner, Song.sha256 == upload.sha256)).one(), False
    log.info("song %s stored (%d bytes, %s)", song.id, song.size_bytes, song.format_name)
    return song, True


@router.get("", response_model=SongList)
def list_songs(ctx: CtxDep, owner: OwnerDep) -> dict[str, Any]:
    with ctx.db.read() as s:
        songs = s.scalars(select(Song).where(Song.owner_id == owner).order_by(Song.created_at.desc())).all()
    return {"songs": [song_public(ctx, song) for song in songs]}


@router.get("/by-hash/{sha256}", response_model=SongOut, responses=_ERRORS)
def song_by_hash(sha256: Sha256, ctx: CtxDep, owner: OwnerDep) -> dict[str, Any]:
    """The song with this content, so a client can skip uploading what the server already has."""
    with ctx.db.read() as s:
        song = s.scalars(select(Song).where(Song.owner_id == owner, Song.sha256 == sha256.lower())).first()
    if song is None:
        raise ApiError(404, "not_found", "no song with this content")
    return song_public(ctx, song)


@router.get("/{song_id}", response_model=SongOut, responses=_ERRORS)
def get_song(song: SongDep, ctx: CtxDep) -> dict[str, Any]:
    return song_public(ctx, song)


@router.patch("/{song_id}", response_model=SongOut, responses=_ERRORS)
def rename_song(body: SongPatch, song: SongDep, ctx: CtxDep) -> dict[str, Any]:
    with ctx.db.write() as s:
        row = s.get(Song, song.id)
        if row is None:
            raise ApiError(404, "not_found", "no such song")
        row.name = body.name.strip() or row.name
    song.name = row.name
    return song_public(ctx, song)


@router.delete("/{song_id}", status_code=204, responses=_ERRORS)
def delete_song(song: SongDep, ctx: CtxDep) -> Response:
    with ctx.db.read() as s:
        active = s.scalars(select(Job.id).where(Job.song_id == song.id, Job.state.in_(ACTIVE_STATES))).all()
    for job_id in active:
        store.request_cancel(ctx.db, job_id)
    with ctx.db.write() as s:
        s.execute(delete(Song).where(Song.id == song.id))
        still_used = s.scalar(select(func.count()).select_from(Song).where(Song.blob_key == song.blob_key))
    if not still_used:
        ctx.blobs.delete(song.blob_key)
    log.info("song %s deleted (blob %s)", song.id, "kept" if still_used else "removed")
    return Response(status_code=204)


@router.post(
    "/{song_id}/separations",
    response_model=JobOut,
    status_code=202,
    responses={**_ERRORS, 200: {"model": JobOut, "description": "already separated"}},
)
def start_separation(body: SeparationRequest, song: SongDep, ctx: CtxDep, response: Response) -> dict[str, Any]:
    """Queue a separation (202). The same request while one runs joins it; a finished one answers 200."""
    from riffroom.separation.engines import choose

    settings = ctx.settings
    try:
        choice = choose(body.engine, body.model or settings.default_model, settings.model_dir)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    except RiffRoomError as exc:
        raise ApiError(riffroom_status(exc), exc.code, str(exc)) from None
    stems = sorted(set(body.stems)) if body.stems else None
    unknown = [s for s in stems or [] if s not in choice.stems]
    if unknown:
        have, missing = ", ".join(choice.stems), ", ".join(unknown)
        raise ApiError(422, "invalid_request", f"{choice.engine} {choice.model} has no {missing} stem; it has {have}")
    key = store.dedupe_key(song.sha256, choice.engine, choice.model, stems, song.owner_id)
    done = published_stems(ctx, song)
    if done is not None and done.job.dedupe_key == key:
        response.status_code = 200
        return store.job_public(done.job)
    timeout = max(settings.job_timeout_min_seconds, settings.job_timeout_factor * (song.duration or 0.0))
    if not _joins_active(ctx, key):
        check_job_quota(ctx, song.owner_id)
    job, created = store.find_or_create(
        ctx.db,
        song,
        engine=choice.engine,
        model=choice.model,
        stems=stems,
        max_attempts=settings.job_max_attempts,
        timeout_seconds=timeout,
    )
    if created:
        ctx.queue.enqueue(job.id)
    return store.job_public(job)


def _joins_active(ctx: Any, key: str) -> bool:
    """Whether this request would join a separation already queued or running (no new quota used)."""
    with ctx.db.read() as s:
        return s.scalar(select(Job.id).where(Job.dedupe_key == key, Job.state.in_(ACTIVE_STATES)).limit(1)) is not None
