"""The band room: bands, their members, and the songs and setlists shared with them.

Members read and play what is shared (with a workspace of their own); only owners change it.
Someone outside a band gets 404 for every id of it. Removing a member or ending a share takes
effect at once: HTTP checks every request, and this node's WebSockets drop subscriptions to jobs
of songs their user can no longer read right away (other nodes within `ws_access_recheck_seconds`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from riffroom.api import band_store
from riffroom.api.band_schemas import BandCreate, BandList, BandMemberIn, BandOut, BandSetlistIn, BandSongIn
from riffroom.api.context import ServerContext
from riffroom.api.deps import CtxDep, OwnerDep
from riffroom.api.schemas import ErrorOut

router = APIRouter(prefix="/api/bands", tags=["bands"])
_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": ErrorOut} for c in (400, 401, 403, 404, 409, 422)}


async def _recheck_sockets(ctx: ServerContext) -> None:
    if ctx.hub is not None:
        await ctx.hub.recheck_access()


@router.post("", response_model=BandOut, status_code=201, responses=_ERRORS)
def create_band(body: BandCreate, ctx: CtxDep, owner: OwnerDep) -> BandOut:
    """A new band with the caller as its owner (409 `accounts_required` on a server without accounts)."""
    return band_store.create_band(ctx.db, owner, body.name)


@router.get("", response_model=BandList)
def list_bands(ctx: CtxDep, owner: OwnerDep) -> BandList:
    """The bands the caller is in, with members and what is shared."""
    return BandList(bands=band_store.bands_of(ctx.db, owner))


@router.get("/{band_id}", response_model=BandOut, responses=_ERRORS)
def get_band(band_id: str, ctx: CtxDep, owner: OwnerDep) -> BandOut:
    return band_store.get_band(ctx.db, band_id, owner)


@router.delete("/{band_id}", status_code=204, responses=_ERRORS)
async def delete_band(band_id: str, ctx: CtxDep, owner: OwnerDep) -> Response:
    """The owner ends the band: every share with it ends too."""
    await run_in_threadpool(band_store.delete_band, ctx.db, band_id, owner)
    await _recheck_sockets(ctx)
    return Response(status_code=204)


@router.post("/{band_id}/members", response_model=BandOut, responses=_ERRORS)
def add_member(band_id: str, body: BandMemberIn, ctx: CtxDep, owner: OwnerDep) -> BandOut:
    """The owner adds an account by user name."""
    return band_store.add_member(ctx.db, band_id, owner, body.username)


@router.delete("/{band_id}/members/{username}", status_code=204, responses=_ERRORS)
async def remove_member(band_id: str, username: str, ctx: CtxDep, owner: OwnerDep) -> Response:
    """The owner removes a member, or a member leaves; they lose the band's songs at once."""
    await run_in_threadpool(band_store.remove_member, ctx.db, band_id, owner, username)
    await _recheck_sockets(ctx)
    return Response(status_code=204)


@router.post("/{band_id}/songs", response_model=BandOut, responses=_ERRORS)
def share_song(band_id: str, body: BandSongIn, ctx: CtxDep, owner: OwnerDep) -> BandOut:
    """Share one of the caller's songs with a band the caller is in (the stems are not copied)."""
    return band_store.share_song(ctx.db, band_id, owner, body.song_id)


@router.delete("/{band_id}/songs/{song_id}", status_code=204, responses=_ERRORS)
async def unshare_song(band_id: str, song_id: str, ctx: CtxDep, owner: OwnerDep) -> Response:
    """The song's owner (or the band's) ends the share; members' workspaces stay, out of reach."""
    await run_in_threadpool(band_store.unshare_song, ctx.db, band_id, owner, song_id)
    await _recheck_sockets(ctx)
    return Response(status_code=204)


@router.post("/{band_id}/setlists", response_model=BandOut, responses=_ERRORS)
def share_setlist(band_id: str, body: BandSetlistIn, ctx: CtxDep, owner: OwnerDep) -> BandOut:
    """Share one of the caller's setlists, and the caller's songs in it."""
    return band_store.share_setlist(ctx.db, band_id, owner, body.setlist_id)


@router.delete("/{band_id}/setlists/{setlist_id}", status_code=204, responses=_ERRORS)
def unshare_setlist(band_id: str, setlist_id: str, ctx: CtxDep, owner: OwnerDep) -> Response:
    band_store.unshare_setlist(ctx.db, band_id, owner, setlist_id)
    return Response(status_code=204)
