"""Route dependencies: a handler's signature says what it needs."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Request

from riffroom.api import access
from riffroom.api.context import ServerContext
from riffroom.api.errors import ApiError
from riffroom.api.security import LOCAL_OWNER, Principal
from riffroom.storage.models import Job, Song

_ID = re.compile(r"^[0-9a-f]{32}$")
__all__ = [
    "LOCAL_OWNER",
    "CtxDep",
    "JobDep",
    "OwnerDep",
    "PrincipalDep",
    "ReadableJobDep",
    "ReadableSongDep",
    "SongDep",
]


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


def _song(song_id: str, ctx: ServerContext, user_id: str, *, write: bool) -> Song:
    song = None
    if _ID.match(song_id):
        with ctx.db.read() as s:
            song = access.readable_song(s, song_id, user_id)
    if song is None:
        raise ApiError(404, "not_found", "no such song")
    if write and song.owner_id != user_id:  # a band member sees it, so saying so reveals nothing
        raise ApiError(403, "forbidden", "only the song's owner can change it")
    return song


def get_song(song_id: str, ctx: CtxDep, owner: OwnerDep) -> Song:
    """The song if it is the caller's own (rename, delete, share): `api/access.py` says who may write."""
    return _song(song_id, ctx, owner, write=True)


def get_readable_song(song_id: str, ctx: CtxDep, owner: OwnerDep) -> Song:
    """The song if the caller owns it or it is shared with a band the caller is in."""
    return _song(song_id, ctx, owner, write=False)


SongDep = Annotated[Song, Depends(get_song)]  # the owner's: for changes
ReadableSongDep = Annotated[Song, Depends(get_readable_song)]  # the owner's or a band's: for reading and playing


def _job(job_id: str, ctx: ServerContext, user_id: str, *, write: bool) -> Job:
    job = None
    if _ID.match(job_id):
        with ctx.db.read() as s:
            job = access.readable_job(s, job_id, user_id)
            if job is not None and write and access.writable_job(s, job_id, user_id) is None:
                raise ApiError(403, "forbidden", "only the song's owner can cancel its separation")
    if job is None:
        raise ApiError(404, "not_found", "no such job")
    return job


def get_job(job_id: str, ctx: CtxDep, owner: OwnerDep) -> Job:
    """The job if its song is the caller's own (cancel)."""
    return _job(job_id, ctx, owner, write=True)


def get_readable_job(job_id: str, ctx: CtxDep, owner: OwnerDep) -> Job:
    return _job(job_id, ctx, owner, write=False)


JobDep = Annotated[Job, Depends(get_job)]
ReadableJobDep = Annotated[Job, Depends(get_readable_job)]
