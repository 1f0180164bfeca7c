"""Setlists: an owner's ordered list of songs with notes per song, and the printable set sheet.

A setlist may name only songs its owner can read (their own, or shared with a band they are in);
any other id answers the same 404 as a song that never existed. A setlist shared with a band is
read by its members, who see the songs of it that they can read; only the owner changes it.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from riffroom.api import access
from riffroom.api.band_schemas import (
    SetlistCreate,
    SetlistEntryIn,
    SetlistEntryOut,
    SetlistList,
    SetlistOrder,
    SetlistOut,
    SetlistPatch,
    SetlistSummary,
    SetSheetOut,
    SetSheetSong,
)
from riffroom.api.context import ServerContext
from riffroom.api.deps import CtxDep, OwnerDep
from riffroom.api.errors import ApiError
from riffroom.api.schemas import ErrorOut
from riffroom.api.views import published_stems
from riffroom.storage.models import AnalysisCorrection, Song
from riffroom.storage.practice_models import Setlist, SetlistEntry

router = APIRouter(prefix="/api/setlists", tags=["setlists"])
_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": ErrorOut} for c in (400, 401, 403, 404, 422)}
_NOT_FOUND = ApiError(404, "not_found", "no such setlist")


def _entries(s: Session, user_id: str, setlist_ids: list[str]) -> dict[str, list[tuple[SetlistEntry, Song]]]:
    """Each setlist's entries that `user_id` can read, in set order."""
    out: dict[str, list[tuple[SetlistEntry, Song]]] = {i: [] for i in setlist_ids}
    if not setlist_ids:
        return out
    rows = s.execute(
        select(SetlistEntry, Song)
        .join(Song, Song.id == SetlistEntry.song_id)
        .where(SetlistEntry.setlist_id.in_(setlist_ids), access.song_readable_by(user_id))
        .order_by(SetlistEntry.setlist_id, SetlistEntry.position)
    ).all()
    for entry, song in rows:
        out[entry.setlist_id].append((entry, song))
    return out


def _setlist_out(ctx: ServerContext, user_id: str, setlist: Setlist) -> SetlistOut:
    with ctx.db.read() as s:
        entries = _entries(s, user_id, [setlist.id])[setlist.id]
        bands = access.bands_of_setlists(s, user_id, [setlist])[setlist.id]
    songs = [
        SetlistEntryOut(
            song_id=song.id,
            position=i,
            notes=entry.notes,
            name=song.name,
            artist=song.artist,
            duration=song.duration,
        )
        for i, (entry, song) in enumerate(entries)
    ]
    return SetlistOut(
        id=setlist.id,
        name=setlist.name,
        owned=setlist.owner_id == user_id,
        bands=bands,
        songs=songs,
        duration=round(sum(song.duration for song in songs), 3),
        created_at=setlist.created_at,
        updated_at=setlist.updated_at,
    )


def _readable(ctx: ServerContext, setlist_id: str, user_id: str) -> Setlist:
    with ctx.db.read() as s:
        setlist = access.readable_setlist(s, setlist_id, user_id)
    if setlist is None:
        raise _NOT_FOUND
    return setlist


def _writable(s: Session, setlist_id: str, user_id: str) -> Setlist:
    """The caller's own setlist; 403 for a band's setlist the caller only reads, else 404."""
    setlist = access.writable_setlist(s, setlist_id, user_id)
    if setlist is not None:
        return setlist
    if access.readable_setlist(s, setlist_id, user_id) is not None:
        raise ApiError(403, "forbidden", "only the setlist's owner can change it")
    raise _NOT_FOUND


def _check_songs(s: Session, user_id: str, songs: list[SetlistEntryIn]) -> None:
    """Every song readable by the setlist's owner, each once; 404 names no song."""
    seen: set[str] = set()
    for i, entry in enumerate(songs):
        if entry.song_id in seen:
            raise ApiError(422, "invalid_request", f"songs.{i}.song_id: this song is already in the setlist")
        seen.add(entry.song_id)
    if access.readable_song_ids(s, user_id, seen) != seen:
        raise ApiError(404, "not_found", "no such song")


def _replace_entries(s: Session, setlist_id: str, songs: list[SetlistEntryIn]) -> None:
    s.execute(delete(SetlistEntry).where(SetlistEntry.setlist_id == setlist_id))
    for position, entry in enumerate(songs):
        s.add(SetlistEntry(setlist_id=setlist_id, song_id=entry.song_id, position=position, notes=entry.notes))


@router.post("", response_model=SetlistOut, status_code=201, responses=_ERRORS)
def create_setlist(body: SetlistCreate, ctx: CtxDep, owner: OwnerDep) -> SetlistOut:
    now = time.time()
    with ctx.db.write() as s:
        _check_songs(s, owner, body.songs)
        setlist = Setlist(owner_id=owner, name=body.name.strip() or "Setlist", created_at=now, updated_at=now)
        s.add(setlist)
        s.flush()
        _replace_entries(s, setlist.id, body.songs)
    return _setlist_out(ctx, owner, setlist)


@router.get("", response_model=SetlistList)
def list_setlists(ctx: CtxDep, owner: OwnerDep) -> SetlistList:
    """The caller's setlists and those shared with a band the caller is in."""
    with ctx.db.read() as s:
        setlists = list(
            s.scalars(select(Setlist).where(access.setlist_readable_by(owner)).order_by(Setlist.updated_at.desc()))
        )
        entries = _entries(s, owner, [x.id for x in setlists])
        bands = access.bands_of_setlists(s, owner, setlists)
    return SetlistList(
        setlists=[
            SetlistSummary(
                id=x.id,
                name=x.name,
                owned=x.owner_id == owner,
                bands=bands[x.id],
                song_count=len(entries[x.id]),
                duration=round(sum(song.duration for _e, song in entries[x.id]), 3),
                updated_at=x.updated_at,
            )
            for x in setlists
        ]
    )


@router.get("/{setlist_id}", response_model=SetlistOut, responses=_ERRORS)
def get_setlist(setlist_id: str, ctx: CtxDep, owner: OwnerDep) -> SetlistOut:
    return _setlist_out(ctx, owner, _readable(ctx, setlist_id, owner))


@router.patch("/{setlist_id}", response_model=SetlistOut, responses=_ERRORS)
def patch_setlist(setlist_id: str, body: SetlistPatch, ctx: CtxDep, owner: OwnerDep) -> SetlistOut:
    """Rename, and/or replace the songs (in order, with their notes). The owner's only."""
    with ctx.db.write() as s:
        setlist = _writable(s, setlist_id, owner)
        if body.name is not None:
            setlist.name = body.name.strip() or setlist.name
        if body.songs is not None:
            _check_songs(s, owner, body.songs)
            _replace_entries(s, setlist.id, body.songs)
        setlist.updated_at = time.time()
    return _setlist_out(ctx, owner, setlist)


@router.put("/{setlist_id}/order", response_model=SetlistOut, responses=_ERRORS)
def order_setlist(setlist_id: str, body: SetlistOrder, ctx: CtxDep, owner: OwnerDep) -> SetlistOut:
    """Put the setlist's songs in this order: `song_ids` lists each of them once (songs the owner
    can no longer read keep their place after these)."""
    with ctx.db.write() as s:
        setlist = _writable(s, setlist_id, owner)
        visible = _entries(s, owner, [setlist.id])[setlist.id]
        current = {entry.song_id: entry for entry, _song in visible}
        if len(body.song_ids) != len(current) or set(body.song_ids) != set(current):
            raise ApiError(
                422,
                "invalid_request",
                f"song_ids: list each of the setlist's {len(current)} songs once, in the new order",
            )
        hidden = s.scalars(
            select(SetlistEntry)
            .where(SetlistEntry.setlist_id == setlist.id, SetlistEntry.song_id.not_in(list(current) or [""]))
            .order_by(SetlistEntry.position)
        ).all()
        for position, entry in enumerate([*(current[i] for i in body.song_ids), *hidden]):
            entry.position = position
        setlist.updated_at = time.time()
    return _setlist_out(ctx, owner, setlist)


@router.delete("/{setlist_id}", status_code=204, responses=_ERRORS)
def delete_setlist(setlist_id: str, ctx: CtxDep, owner: OwnerDep) -> Response:
    with ctx.db.write() as s:
        setlist = _writable(s, setlist_id, owner)
        s.delete(setlist)
    return Response(status_code=204)


@router.get("/{setlist_id}/sheet", response_model=SetSheetOut, responses=_ERRORS)
def setlist_sheet(setlist_id: str, ctx: CtxDep, owner: OwnerDep) -> SetSheetOut:
    """What a printed set sheet shows: per song its title, artist, key, tempo, duration and notes.
    Key and tempo come from the song's analysis (with the owner's tempo correction), and are null
    for a song that has none yet; reading the sheet never starts a separation."""
    setlist = _readable(ctx, setlist_id, owner)
    with ctx.db.read() as s:
        entries = _entries(s, owner, [setlist.id])[setlist.id]
    songs = []
    for i, (entry, song) in enumerate(entries):
        key, bpm = _key_and_tempo(ctx, song)
        songs.append(
            SetSheetSong(
                position=i + 1,
                song_id=song.id,
                title=song.name,
                artist=song.artist,
                key=key,
                tempo_bpm=bpm,
                duration=song.duration,
                notes=entry.notes,
            )
        )
    return SetSheetOut(title=setlist.name, songs=songs, total_duration=round(sum(x.duration for x in songs), 3))


def _key_and_tempo(ctx: ServerContext, song: Song) -> tuple[str | None, float | None]:
    from riffroom.jobs.analysis_stage import read_analysis

    published = published_stems(ctx, song)
    found = read_analysis(ctx.cache, published.cache_key) if published is not None else None
    if not found:
        return None, None
    with ctx.db.read() as s:
        correction = s.get(AnalysisCorrection, song.id)
    bpm = found.get("bpm")
    if isinstance(bpm, (int, float)) and correction is not None:
        bpm = round(float(bpm) * correction.tempo_factor, 2)
    key = found.get("key")
    return (key if isinstance(key, str) else None), (float(bpm) if isinstance(bpm, (int, float)) else None)
