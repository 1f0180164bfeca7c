"""A song's practice workspace (per user, with revisions) and its practice log.

The workspace is saved whole with the revision it was based on; the server compares and sets in
one write transaction (SQLite `BEGIN IMMEDIATE`, a row lock on PostgreSQL), so of two saves based
on the same revision exactly one wins and the other gets 409 `stale_revision` with what the server
has now, for the client to merge its last change into and save again.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from riffroom.api.context import ServerContext
from riffroom.api.deps import CtxDep, OwnerDep, ReadableSongDep
from riffroom.api.errors import ApiError
from riffroom.api.practice_log import WEEK_SECONDS, LoggedChunk, summarize, window_start
from riffroom.api.practice_schemas import (
    PracticeLogAdded,
    PracticeLogIn,
    PracticeLogOut,
    PracticeOut,
    PracticePut,
    PracticeState,
    StaleRevisionOut,
)
from riffroom.api.schemas import ErrorOut
from riffroom.storage.models import Song
from riffroom.storage.practice_models import PracticeLogEntry, PracticeWorkspace

router = APIRouter(prefix="/api/songs", tags=["practice"])
_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": ErrorOut} for c in (400, 401, 404, 413, 422)}
DURATION_SLACK_SECONDS = 0.05  # a loop may end a hair after the probed duration
LOG_MAX_AGE_SECONDS = 400 * 86400.0
LOG_MAX_AHEAD_SECONDS = 300.0


def _load(ctx: ServerContext, song_id: str, user_id: str) -> PracticeOut:
    with ctx.db.read() as s:
        row = s.get(PracticeWorkspace, (song_id, user_id))
    if row is None:
        return PracticeOut(revision=0, state=PracticeState(), updated_at=None)
    return PracticeOut(revision=row.revision, state=PracticeState.model_validate(row.state), updated_at=row.updated_at)


@router.get("/{song_id}/practice", response_model=PracticeOut, responses=_ERRORS)
def get_practice(song: ReadableSongDep, ctx: CtxDep, owner: OwnerDep) -> PracticeOut:
    """The caller's workspace of this song (revision 0 and defaults before the first save)."""
    return _load(ctx, song.id, owner)


@router.put(
    "/{song_id}/practice",
    response_model=PracticeOut,
    responses={**_ERRORS, 409: {"model": StaleRevisionOut, "description": "saved from an old revision"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["revision", "state"],
                        "properties": {
                            "revision": {"type": "integer", "minimum": 0},
                            "state": {"$ref": "#/components/schemas/PracticeState"},
                        },
                    }
                }
            },
        }
    },
)
async def put_practice(request: Request, song: ReadableSongDep, ctx: CtxDep, owner: OwnerDep) -> Any:
    """Save the workspace (`{"revision", "state"}`): 200 with the new revision, or 409
    `stale_revision` with the current revision and state when `revision` is not the current one."""
    body = _parse(await _read_capped(request, ctx.settings.practice_state_max_bytes))
    _check_times(body.state, song)
    state = body.state.model_dump(mode="json")
    saved, current = await run_in_threadpool(_compare_and_set, ctx, song.id, owner, body.revision, state)
    if not saved:
        return JSONResponse(
            {
                "error": {
                    "code": "stale_revision",
                    "message": f"the workspace changed since revision {body.revision}: "
                    f"it is at revision {current.revision}; merge and save again",
                },
                **current.model_dump(mode="json", include={"revision", "state"}),
            },
            status_code=409,
        )
    return current


async def _read_capped(request: Request, cap: int) -> bytes:
    """The body, refused with 413 as soon as it passes `cap` bytes (whatever Content-Length says)."""
    too_large = ApiError(413, "too_large", f"a practice workspace may be at most {cap} bytes of JSON")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes) -> PracticePut:
    """The workspace, or 400 `invalid_request` naming each wrong field (`state.tempo: ...`)."""
    try:
        return PracticePut.model_validate_json(raw)
    except ValidationError as exc:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        raise ApiError(400, "invalid_request", "; ".join(parts) or "invalid workspace") from None


def _check_times(state: PracticeState, song: Song) -> None:
    """Loops and markers must lie inside the song (when its duration is known)."""
    if song.duration <= 0:
        return
    limit = song.duration + DURATION_SLACK_SECONDS
    for i, loop in enumerate(state.loops):
        if loop.end > limit:
            raise ApiError(
                400,
                "invalid_request",
                f"state.loops.{i}.end: {loop.end:.2f} s is past the end of the song ({song.duration:.2f} s)",
            )
    for i, marker in enumerate(state.markers):
        if marker.time > limit:
            raise ApiError(
                400,
                "invalid_request",
                f"state.markers.{i}.time: {marker.time:.2f} s is past the end of the song ({song.duration:.2f} s)",
            )


def _compare_and_set(
    ctx: ServerContext, song_id: str, user_id: str, base: int, state: dict[str, Any]
) -> tuple[bool, PracticeOut]:
    """(saved, what the server has now), in one write transaction."""
    now = time.time()
    try:
        with ctx.db.write() as s:
            query = select(PracticeWorkspace).where(
                PracticeWorkspace.song_id == song_id, PracticeWorkspace.user_id == user_id
            )
            if not ctx.db.is_sqlite:  # SQLite's BEGIN IMMEDIATE already holds the write lock
                query = query.with_for_update()
            row = s.scalars(query).first()
            current = row.revision if row is not None else 0
            if current != base:
                old = PracticeState.model_validate(row.state) if row is not None else PracticeState()
                return False, PracticeOut(revision=current, state=old, updated_at=row.updated_at if row else None)
            if row is None:
                s.add(PracticeWorkspace(song_id=song_id, user_id=user_id, revision=1, state=state, updated_at=now))
            else:
                row.revision, row.state, row.updated_at = current + 1, state, now
            return True, PracticeOut(revision=current + 1, state=PracticeState.model_validate(state), updated_at=now)
    except IntegrityError:  # two first saves at once: the other one is revision 1
        return False, _load(ctx, song_id, user_id)


@router.post("/{song_id}/practice/log", response_model=PracticeLogAdded, status_code=201, responses=_ERRORS)
def add_practice_log(body: PracticeLogIn, song: ReadableSongDep, ctx: CtxDep, owner: OwnerDep) -> PracticeLogAdded:
    """Report practised time in chunks (`{"sessions": [{started_at, seconds, loop_id?, tempo, id?}]}`);
    a chunk resent with the same `id` is not counted twice."""
    now = time.time()
    for i, chunk in enumerate(body.sessions):
        if not now - LOG_MAX_AGE_SECONDS <= chunk.started_at <= now + LOG_MAX_AHEAD_SECONDS:
            raise ApiError(422, "invalid_request", f"sessions.{i}.started_at: not a time of the last 400 days")
    with ctx.db.write() as s:
        ids = [c.id for c in body.sessions if c.id is not None]
        seen = set()
        if ids:
            seen = set(
                s.scalars(
                    select(PracticeLogEntry.client_id).where(
                        PracticeLogEntry.user_id == owner,
                        PracticeLogEntry.song_id == song.id,
                        PracticeLogEntry.client_id.in_(ids),
                    )
                )
            )
        added = 0
        for chunk in body.sessions:
            if chunk.id is not None:
                if chunk.id in seen:
                    continue
                seen.add(chunk.id)
            s.add(
                PracticeLogEntry(
                    song_id=song.id,
                    user_id=owner,
                    client_id=chunk.id,
                    started_at=chunk.started_at,
                    seconds=chunk.seconds,
                    loop_id=chunk.loop_id,
                    tempo=chunk.tempo,
                    created_at=now,
                )
            )
            added += 1
    return PracticeLogAdded(added=added)


@router.get("/{song_id}/practice/log", response_model=PracticeLogOut, responses=_ERRORS)
def get_practice_log(
    song: ReadableSongDep,
    ctx: CtxDep,
    owner: OwnerDep,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
    tz_offset_minutes: Annotated[int, Query(ge=-840, le=840, description="minutes east of UTC")] = 0,
) -> PracticeLogOut:
    """The caller's practice of this song: per day over `days` days, per loop, and this week."""
    now = time.time()
    since = min(window_start(now, days, tz_offset_minutes), now - WEEK_SECONDS)
    with ctx.db.read() as s:
        rows = s.execute(
            select(
                PracticeLogEntry.started_at, PracticeLogEntry.seconds, PracticeLogEntry.loop_id, PracticeLogEntry.tempo
            ).where(
                PracticeLogEntry.user_id == owner,
                PracticeLogEntry.song_id == song.id,
                PracticeLogEntry.started_at >= since,
            )
        ).all()
    names = {loop.id: loop.name for loop in _load(ctx, song.id, owner).state.loops if loop.name}
    chunks = [LoggedChunk(started_at=r[0], seconds=r[1], loop_id=r[2], tempo=r[3]) for r in rows]
    return summarize(chunks, now=now, days=days, tz_offset_minutes=tz_offset_minutes, loop_names=names)
