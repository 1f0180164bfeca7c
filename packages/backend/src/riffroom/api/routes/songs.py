"""Songs: streamed upload, list, lookup by content hash, rename, delete, start a separation."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from riffroom.api import library
from riffroom.api.access import bands_of_songs, song_readable_by
from riffroom.api.deps import CtxDep, OwnerDep, ReadableSongDep, SongDep
from riffroom.api.errors import ApiError, riffroom_status
from riffroom.api.quotas import check_song_quota
from riffroom.api.schemas import ErrorOut, JobOut, SeparationRequest, SongList, SongOut, SongPatch
from riffroom.api.separations import request_key, start_or_join
from riffroom.api.upload import receive_upload, safe_label
from riffroom.api.views import job_out, published_stems, song_public
from riffroom.errors import BadInputError
from riffroom.separation.engines import engine_request
from riffroom.storage.models import Song

log = logging.getLogger("riffroom.api.songs")
router = APIRouter(prefix="/api/songs", tags=["songs"])
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    c: {"model": ErrorOut} for c in (400, 401, 403, 404, 409, 413, 415, 422, 429, 503, 507)
}


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
async def upload_song(request: Request, response: Response, ctx: CtxDep, owner: OwnerDep) -> SongOut:
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
    stored_blob = not ctx.blobs.exists(key)
    if stored_blob:
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
    except Exception:  # no row (disk full, database locked): no blob either, unless another song has it
        if stored_blob:
            _drop_unreferenced_blob(ctx, key)
        raise
    log.info("song %s stored (%d bytes, %s)", song.id, song.size_bytes, song.format_name)
    return song, True


def _drop_unreferenced_blob(ctx: Any, key: str) -> None:
    try:
        with ctx.db.read() as s:
            referenced = s.scalars(select(Song.id).where(Song.blob_key == key).limit(1)).first() is not None
        if not referenced:
            ctx.blobs.delete(key)
    except Exception:  # the database is still away: a later upload of this content reuses the blob
        log.warning("could not check blob %s after a failed upload", key, exc_info=True)


def _songs_out(ctx: Any, user_id: str, songs: list[Song]) -> list[SongOut]:
    """The public songs, each saying whether it is the caller's and which bands it is shared with."""
    with ctx.db.read() as s:
        bands = bands_of_songs(s, user_id, songs)
    return [
        song_public(ctx, song).model_copy(update={"owned": song.owner_id == user_id, "bands": bands.get(song.id, [])})
        for song in songs
    ]


@router.get("", response_model=SongList)
def list_songs(ctx: CtxDep, owner: OwnerDep) -> SongList:
    """The caller's songs and those shared with a band the caller is in (`owned`, `bands`)."""
    with ctx.db.read() as s:
        songs = list(s.scalars(select(Song).where(song_readable_by(owner)).order_by(Song.created_at.desc())))
    return SongList(songs=_songs_out(ctx, owner, songs))


@router.get("/by-hash/{sha256}", response_model=SongOut, responses=_ERRORS)
def song_by_hash(sha256: Sha256, ctx: CtxDep, owner: OwnerDep) -> SongOut:
    """The song with this content, so a client can skip uploading what the server already has."""
    with ctx.db.read() as s:
        song = s.scalars(select(Song).where(Song.owner_id == owner, Song.sha256 == sha256.lower())).first()
    if song is None:
        raise ApiError(404, "not_found", "no song with this content")
    return song_public(ctx, song)


@router.get("/{song_id}", response_model=SongOut, responses=_ERRORS)
def get_song(song: ReadableSongDep, ctx: CtxDep, owner: OwnerDep) -> SongOut:
    return _songs_out(ctx, owner, [song])[0]


@router.patch("/{song_id}", response_model=SongOut, responses=_ERRORS)
def rename_song(body: SongPatch, song: SongDep, ctx: CtxDep) -> SongOut:
    with ctx.db.write() as s:
        row = s.get(Song, song.id)
        if row is None:
            raise ApiError(404, "not_found", "no such song")
        row.name = body.name.strip() or row.name
    song.name = row.name
    return song_public(ctx, song)


@router.delete("/{song_id}", status_code=204, responses=_ERRORS)
def delete_song(song: SongDep, ctx: CtxDep) -> Response:
    """Cancel the song's jobs and delete it; its file goes when no other song uses it."""
    blob_removed = library.delete_song(ctx.db, ctx.blobs, song)
    log.info("song %s deleted (blob %s)", song.id, "removed" if blob_removed else "kept")
    return Response(status_code=204)


@router.post(
    "/{song_id}/separations",
    response_model=JobOut,
    status_code=202,
    responses={**_ERRORS, 200: {"model": JobOut, "description": "already separated"}},
)
def start_separation(body: SeparationRequest, song: ReadableSongDep, ctx: CtxDep, response: Response) -> JobOut:
    """Queue a separation (202). The same request while one runs joins it; a finished one answers 200.

    Only names are checked here: the worker that runs the job resolves `auto` with its own
    weights (the job's `engine_used` says what ran), and fails a `demucs` job it has no weights for.
    A band member may separate a song shared with the band: the job is the song's, and counts
    against its owner's quota."""
    try:
        request = engine_request(
            body.engine or ctx.settings.default_engine, body.model or ctx.settings.default_model, body.stems
        )
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    done = published_stems(ctx, song)
    if done is not None and done.job.dedupe_key == request_key(song, request):
        response.status_code = 200
        return job_out(done.job)
    job, _created = start_or_join(ctx, song, request)
    return job_out(job)
