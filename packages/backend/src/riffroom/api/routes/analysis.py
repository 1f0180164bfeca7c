"""A song's analysis (beats, bars, tempo, key, chords, sections) and the user's corrections to it.

The analysis is made by the separation job and kept beside the stems (jobs/analysis_stage.py);
the corrections are the song owner's, one row per song, applied on every read
(analysis/corrections.py), so the stored analysis itself is never changed.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from riffroom.analysis.corrections import NO_CORRECTIONS, CorrectionError, Corrections, apply_corrections
from riffroom.analysis.corrections import parse_corrections as parse
from riffroom.api.context import ServerContext
from riffroom.api.deps import CtxDep, ReadableSongDep, SongDep
from riffroom.api.errors import ApiError
from riffroom.api.schemas import AnalysisCorrections, AnalysisOut, ErrorOut
from riffroom.api.separations import start_or_join
from riffroom.api.views import evicted_job, published_stems
from riffroom.jobs.analysis_stage import read_analysis
from riffroom.separation.engines import EngineRequest
from riffroom.storage.models import ACTIVE_STATES, AnalysisCorrection, Job, Song

router = APIRouter(prefix="/api/songs", tags=["analysis"])
_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": ErrorOut} for c in (401, 403, 404, 409, 422, 429)}


@router.get("/{song_id}/analysis", response_model=AnalysisOut, responses=_ERRORS)
def get_analysis(song: ReadableSongDep, ctx: CtxDep) -> AnalysisOut:
    """The analysis with the user's corrections applied. 409 `not_ready` with `job_id` while the
    song is separated and analysed (also when it was evicted, or separated before analyses
    existed: that job is started here)."""
    return _out(_analysis_of(ctx, song), _stored_corrections(ctx, song))


@router.put("/{song_id}/analysis/corrections", response_model=AnalysisOut, responses=_ERRORS)
def put_corrections(body: AnalysisCorrections, song: SongDep, ctx: CtxDep) -> AnalysisOut:
    """Replace the song's corrections; answers the corrected analysis. 422 for a chord label or
    time signature that is not one; 409 `not_ready` (nothing saved) while there is no analysis."""
    try:
        fix = parse(body.model_dump())
    except CorrectionError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    found = _analysis_of(ctx, song)
    corrected = _out(found, fix)  # apply before saving: nothing is stored that cannot be served
    with ctx.db.write() as s:
        row = s.get(AnalysisCorrection, song.id)
        if row is None:
            row = AnalysisCorrection(song_id=song.id)
            s.add(row)
        row.first_downbeat = fix.first_downbeat
        row.tempo_factor = fix.tempo_factor
        row.time_signature = fix.time_signature
        row.chords = [c.to_json() for c in fix.chords]
        row.updated_at = time.time()
    return corrected


def _out(found: dict[str, Any], fix: Corrections) -> AnalysisOut:
    return AnalysisOut.model_validate({**apply_corrections(found, fix), "corrections": fix.to_json()})


def _stored_corrections(ctx: ServerContext, song: Song) -> Corrections:
    with ctx.db.read() as s:
        row = s.get(AnalysisCorrection, song.id)
    if row is None:
        return NO_CORRECTIONS
    return parse(
        {
            "first_downbeat": row.first_downbeat,
            "tempo_factor": row.tempo_factor,
            "time_signature": row.time_signature,
            "chords": row.chords,
        }
    )


def _analysis_of(ctx: ServerContext, song: Song) -> dict[str, Any]:
    """The stored analysis of the song's published stems, or 409 with the job that makes it."""
    published = published_stems(ctx, song)
    if published is not None:
        found = read_analysis(ctx.cache, published.cache_key)
        if found is not None:
            return found
    active = _active_job(ctx, song)
    if active is not None:
        raise ApiError(409, "not_ready", "the song is still being separated and analysed", job_id=active.id)
    if published is not None:  # stems without an analysis: evicted alone, or made before analyses
        job, _created = start_or_join(ctx, song, _request_of(published.job))
        raise ApiError(409, "not_ready", "the song is being analysed", job_id=job.id)
    old = evicted_job(ctx, song)
    if old is None:
        raise ApiError(404, "no_stems", "this song has not been separated yet: POST /api/songs/{id}/separations")
    job, _created = start_or_join(ctx, song, _request_of(old))
    raise ApiError(409, "not_ready", "the stems were evicted from the cache and are being recomputed", job_id=job.id)


def _active_job(ctx: ServerContext, song: Song) -> Job | None:
    with ctx.db.read() as s:
        return s.scalars(select(Job).where(Job.song_id == song.id, Job.state.in_(ACTIVE_STATES)).limit(1)).first()


def _request_of(job: Job) -> EngineRequest:
    """The request as it was first asked (the quota applies to the job it starts)."""
    return EngineRequest(job.engine, job.model or "", job.stems)
