"""Stems over HTTP (Range, ETag, and sample-accurate `start`/`end` ranges while the job still runs),
waveform peaks and custom mixes."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from riffroom.api import stem_ranges
from riffroom.api.context import ServerContext
from riffroom.api.deps import CtxDep, ReadableSongDep
from riffroom.api.errors import ApiError
from riffroom.api.schemas import ErrorOut, Format, MixRequest, NotReadyOut, PeaksOut
from riffroom.api.separations import start_or_join
from riffroom.api.upload import safe_label
from riffroom.api.views import evicted_job, published_stems
from riffroom.audio import derived as media
from riffroom.jobs import store
from riffroom.separation.engine import ALL_STEMS
from riffroom.separation.engines import EngineRequest
from riffroom.storage.models import ACTIVE_STATES, Job, Song
from riffroom.storage.segments import wav_frames

router = APIRouter(prefix="/api/songs", tags=["stems"])
_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": ErrorOut} for c in (400, 401, 404, 409, 422, 429)}
_MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "opus": "audio/ogg"}
PIN_SECONDS = 600.0  # a stem being read is not evicted for this long
_RANGE_TYPES = {"wav": "audio/wav", "flac": "audio/flac"}
_START = "seconds: with `end`, only that range of the stem (floor(start x 44100) to floor(end x 44100)), wav or flac"
_END = "seconds (default: the end of the song); a range past what is separated gets 409 `not_ready`"
_mix_slots: asyncio.Semaphore | None = None


def _stems_for(ctx: ServerContext, song: Song) -> tuple[str, dict[str, FsPath]]:
    """(cache key, {stem: wav}) of the song's published stems, pinned against eviction."""
    published = published_stems(ctx, song)
    entry = ctx.cache.lookup(published.cache_key, pin_seconds=PIN_SECONDS) if published else None
    if published is not None and entry is not None:
        return entry.key, {name: path for name, path in entry.stems.items() if name in published.names}
    with ctx.db.read() as s:
        active = s.scalars(select(Job).where(Job.song_id == song.id, Job.state.in_(ACTIVE_STATES)).limit(1)).first()
    if active is not None:
        raise ApiError(409, "not_ready", "the stems are still being separated", job_id=active.id)
    old = evicted_job(ctx, song)
    if old is None:
        raise ApiError(404, "no_stems", "this song has not been separated yet: POST /api/songs/{id}/separations")
    # The request as it was first asked (quota included: 429 when the owner has no room for it).
    job, _created = start_or_join(ctx, song, EngineRequest(old.engine, old.model or "", old.stems))
    raise ApiError(409, "not_ready", "the stems were evicted from the cache and are being recomputed", job_id=job.id)


def _attachment(song: Song, suffix: str) -> str:
    """`Content-Disposition: attachment` naming the file after the song, safe in any browser: a
    plain-ASCII fallback (letters, digits, space, `._()-`) and the full name percent-encoded."""
    name = f"{safe_label(song.name) or 'song'} - {suffix}"
    fallback = re.sub(r"[^A-Za-z0-9 ._()-]+", "_", name).strip(" ._") or "download"
    return f"attachment; filename=\"{fallback[:150]}\"; filename*=UTF-8''{quote(name[:150], safe='')}"


@router.get(
    "/{song_id}/stems/{stem}",
    responses={
        **_ERRORS,
        200: {
            "content": {t: {} for t in _MEDIA_TYPES.values()},
            "headers": {"X-Ready-Seconds": {"description": "with start/end: seconds of the stem ready now"}},
        },
        206: {"description": "partial content"},
        409: {"model": NotReadyOut, "description": "not separated yet (with start/end: not that far yet)"},
    },
    response_class=FileResponse,
)
def get_stem(
    stem: str,
    song: ReadableSongDep,
    ctx: CtxDep,
    request: Request,
    format: Annotated[Format, Query()] = "wav",
    start: Annotated[float | None, Query(description=_START)] = None,
    end: Annotated[float | None, Query(description=_END)] = None,
) -> Response:
    """One stem as wav|flac|mp3|opus, with Range requests and an ETag.

    With `start`/`end`: exactly that range as wav (float, the stored samples) or flac, while the
    job still runs too (`Cache-Control: no-store` then), with `X-Ready-Seconds`."""
    if stem not in ALL_STEMS:
        raise ApiError(404, "not_found", f"unknown stem; stems are {', '.join(ALL_STEMS)}")
    if start is not None or end is not None:
        return _stem_range(ctx, song, stem, request, format, start, end)
    key, stems = _stems_for(ctx, song)
    if stem not in stems:
        raise ApiError(404, "not_found", f"this separation has no {stem} stem; it has {', '.join(stems)}")
    etag = f'"{key[:40]}-{stem}-{format}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": _attachment(song, f"{stem}.{format}"),
    }
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    path = media.transcoded(ctx.derived_dir, key, stem, stems[stem], format)
    return FileResponse(path, media_type=_MEDIA_TYPES[format], headers=headers)


def _stem_range(
    ctx: ServerContext, song: Song, stem: str, request: Request, fmt: str, start: float | None, end: float | None
) -> Response:
    if fmt not in _RANGE_TYPES:
        raise ApiError(422, "invalid_request", "a range (start/end) is served as wav or flac")
    stem_ranges.check_seconds(start, end)
    piece = None
    for _ in range(3):  # a job that finishes meanwhile hands over to its published stems
        piece = _published_range(ctx, song, stem, start, end)
        if piece is not None:
            break
        with ctx.db.read() as s:
            job = s.scalars(
                select(Job).where(Job.song_id == song.id, Job.state.in_(ACTIVE_STATES)).order_by(Job.created_at.desc())
            ).first()
        if job is None:
            _stems_for(ctx, song)  # 404 never separated, or 409 while evicted stems are recomputed
            continue
        if (job.listening_at or 0.0) < time.time() - 5.0:
            store.mark_listening(ctx.db, song.id)
        piece = stem_ranges.from_job(ctx, job, stem, start, end, song.duration)
        if piece is not None:
            break
    if piece is None:
        raise ApiError(409, "not_ready", "the stems are being published; ask again", ready_seconds=0.0)
    headers = {
        "X-Ready-Seconds": f"{piece.ready_seconds:.6f}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store" if piece.from_running_job else "private, no-cache",
    }
    if piece.key is not None and not piece.from_running_job:
        frames = piece.samples.shape[-1]
        headers["ETag"] = f'"{piece.key[:40]}-{stem}-{fmt}-{start or 0.0!r}-{end!r}-{frames}"'
        if headers["ETag"] in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
    return Response(stem_ranges.encode(piece.samples, fmt), media_type=_RANGE_TYPES[fmt], headers=headers)


def _published_range(
    ctx: ServerContext, song: Song, stem: str, start: float | None, end: float | None
) -> stem_ranges.StemRange | None:
    published = published_stems(ctx, song)
    entry = ctx.cache.lookup(published.cache_key, pin_seconds=PIN_SECONDS) if published else None
    if published is None or entry is None:
        return None
    if stem not in published.names or stem not in entry.stems:
        raise ApiError(404, "not_found", f"this separation has no {stem} stem; it has {', '.join(published.names)}")
    path = entry.stems[stem]
    return stem_ranges.from_published(entry.key, wav_frames(path), path, start, end)


@router.get("/{song_id}/peaks", response_model=PeaksOut, responses=_ERRORS)
def get_peaks(
    song: ReadableSongDep, ctx: CtxDep, stem: Annotated[str, Query()], points: Annotated[int, Query(ge=16)] = 1000
) -> PeaksOut:
    """Waveform min/max over `points` windows of a stem; computed once and cached."""
    if stem not in ALL_STEMS:
        raise ApiError(404, "not_found", f"unknown stem; stems are {', '.join(ALL_STEMS)}")
    points = min(points, ctx.settings.max_peaks_points)
    key, stems = _stems_for(ctx, song)
    if stem not in stems:
        raise ApiError(404, "not_found", f"this separation has no {stem} stem")
    return PeaksOut.model_validate(media.peaks(ctx.derived_dir, key, stem, stems[stem], points))


@router.post(
    "/{song_id}/mixes",
    responses={**_ERRORS, 200: {"content": {t: {} for t in _MEDIA_TYPES.values()}}},
    response_class=FileResponse,
)
async def create_mix(body: MixRequest, song: ReadableSongDep, ctx: CtxDep) -> Response:
    """Render the stems with gains in dB (null mutes one), e.g. the song minus the guitar."""
    global _mix_slots
    for name, db in body.gains.items():
        if name not in ALL_STEMS:
            raise ApiError(422, "invalid_request", f"unknown stem {name[:32]!r}; stems are {', '.join(ALL_STEMS)}")
        if db is not None and not -120.0 <= db <= 24.0:
            raise ApiError(422, "invalid_request", f"gain for {name} must be between -120 and +24 dB, or null")
    key, stems = await run_in_threadpool(_stems_for, ctx, song)
    if _mix_slots is None:
        _mix_slots = asyncio.Semaphore(max(1, ctx.settings.max_concurrent_mixes))
    async with _mix_slots:
        path = await run_in_threadpool(
            media.mix,
            ctx.derived_dir,
            key,
            stems,
            body.gains,
            body.format,
            ctx.settings.mixes_kept_per_song,
        )
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES[body.format],
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
            "Content-Disposition": _attachment(song, f"mix.{body.format}"),
        },
    )
