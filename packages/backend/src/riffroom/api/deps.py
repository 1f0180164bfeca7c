"""Route dependencies: a handler's signature says what it needs."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Request

from riffroom.api.context import ServerContext
from riffroom.api.errors import ApiError
from riffroom.api.security import LOCAL_OWNER, Principal
from riffroom.storage.models import Job, Song

_ID = re.compile(r"^[0-9a-f]{32}$")
__all__ = ["LOCAL_OWNER", "CtxDep", "JobDep", "OwnerDep", "PrincipalDep", "SongDep"]


def get_ctx(request: Request) -> ServerContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


CtxDep = Annotated[ServerContext, Depends(get_ctx)]


def current_principal(request: Request, ctx: CtxDep) -> Principal:
    """The logged-in user (session cookie or Bearer token), or the local user when login is off."""
    principal = ctx.accounts.principal(request.cookies, request.headers)
    if principal is None:
        raise ApiError(401, "unauthorized", "log in first (POST /api/auth/login) or send an API token")
    return principal  # type: ignore[no-any-return]


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def current_owner(principal: PrincipalDep) -> str:
    return principal.user_id


OwnerDep = Annotated[str, Depends(current_owner)]


def get_song(song_id: str, ctx: CtxDep, owner: OwnerDep) -> Song:
    if not _ID.match(song_id):
        raise ApiError(404, "not_found", "no such song")
    with ctx.db.read() as s:
        song = s.get(Song, song_id)
    if song is None or song.owner_id != owner:
        raise ApiError(404, "not_found", "no such song")
    return song


SongDep = Annotated[Song, Depends(get_song)]


def get_job(job_id: str, ctx: CtxDep, owner: OwnerDep) -> Job:
    if not _ID.match(job_id):
        raise ApiError(404, "not_found", "no such job")
    with ctx.db.read() as s:
        job = s.get(Job, job_id)
        song = s.get(Song, job.song_id) if job is not None else None
    if job is None or song is None or song.owner_id != owner:
        raise ApiError(404, "not_found", "no such job")
    return job


JobDep = Annotated[Job, Depends(get_job)]
