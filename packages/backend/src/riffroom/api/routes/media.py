"""Stems over HTTP (Range, ETag), waveform peaks and custom mixes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from riffroom.api.context import ServerContext
from riffroom.api.deps import CtxDep, ReadableSongDep
from riffroom.api.errors import ApiError
from riffroom.api.schemas import ErrorOut, Format, MixRequest, PeaksOut
from riffroom.api.separations import start_or_join
from riffroom.api.upload import safe_label
from riffroom.api.views import evicted_job, published_stems
from riffroom.audio import derived as media
from riffroom.separation.engine import ALL_STEMS
from riffroom.separation.engines import EngineRequest
from riffroom.storage.models import ACTIVE_STATES, Job, Song

router = APIRouter(prefix="/api/songs", tags=["stems"])
_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": ErrorOut} for c in (400, 401, 404, 409, 422, 429)}
_MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "opus": "audio/ogg"}
PIN_SECONDS = 600.0  # a stem being read is not evicted for this long
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
    responses={**_ERRORS, 206: {"description": "partial content"}},
    response_class=FileResponse,
)
def get_stem(
    stem: str, song: ReadableSongDep, ctx: CtxDep, request: Request, format: Annotated[Format, Query()] = "wav"
) -> Response:
    """One stem as wav|flac|mp3|opus, with Range requests and an ETag."""
    if stem not in ALL_STEMS:
        raise ApiError(404, "not_found", f"unknown stem; stems are {', '.join(ALL_STEMS)}")
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
