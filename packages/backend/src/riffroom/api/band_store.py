"""Bands and what is shared with them: the one code path for `/api/bands` and `riffroom bands`.

Every function takes the acting user's id and checks what that user may do: anyone outside the
band gets the same 404 as for a band that never existed; a member asking for an owner's action
gets 403. Only a song's (or setlist's) owner shares it, and shares it only with a band they are in.
"""

from __future__ import annotations

import time
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from riffroom.api import access
from riffroom.api.band_schemas import BandMemberOut, BandOut
from riffroom.api.errors import ApiError
from riffroom.storage.auth_models import User
from riffroom.storage.band_models import ROLE_MEMBER, ROLE_OWNER, Band, BandMember, BandSetlist, BandSong
from riffroom.storage.db import Database
from riffroom.storage.practice_models import SetlistEntry

NO_BAND = "no such band"


def _band_of_member(s: Session, band_id: str, user_id: str) -> tuple[Band, str]:
    """(band, the user's role in it), or 404 when the user is not in it."""
    row = s.execute(
        select(Band, BandMember.role)
        .join(BandMember, BandMember.band_id == Band.id)
        .where(Band.id == band_id, BandMember.user_id == user_id)
    ).first()
    if row is None:
        raise ApiError(404, "not_found", NO_BAND)
    return row[0], row[1]


def _owned_band(s: Session, band_id: str, user_id: str, what: str) -> Band:
    band, role = _band_of_member(s, band_id, user_id)
    if role != ROLE_OWNER:
        raise ApiError(403, "forbidden", f"only the band's owner can {what}")
    return band


def _user(s: Session, username: str) -> User:
    user = s.scalars(select(User).where(User.username == username[:64])).first()
    if user is None:
        raise ApiError(404, "not_found", f"no user {username[:64]!r}")
    return user


def band_out(s: Session, band: Band, user_id: str) -> BandOut:
    members = s.execute(
        select(User.id, User.username, BandMember.role, BandMember.added_at)
        .join(BandMember, BandMember.user_id == User.id)
        .where(BandMember.band_id == band.id)
        .order_by(BandMember.added_at, User.username)
    ).all()
    songs = s.scalars(select(BandSong.song_id).where(BandSong.band_id == band.id).order_by(BandSong.shared_at)).all()
    setlists = s.scalars(
        select(BandSetlist.setlist_id).where(BandSetlist.band_id == band.id).order_by(BandSetlist.shared_at)
    ).all()
    mine: Literal["owner", "member"] = "owner" if user_id == band.owner_id else "member"
    return BandOut(
        id=band.id,
        name=band.name,
        owner=next((name for uid, name, _role, _at in members if uid == band.owner_id), ""),
        role=mine,
        members=[
            BandMemberOut(username=name, role="owner" if role == ROLE_OWNER else "member", added_at=at)
            for _uid, name, role, at in members
        ],
        songs=list(songs),
        setlists=list(setlists),
        created_at=band.created_at,
    )


def create_band(db: Database, owner_id: str, name: str) -> BandOut:
    now = time.time()
    with db.write() as s:
        if s.get(User, owner_id) is None:
            raise ApiError(409, "accounts_required", "bands need accounts: add them with `riffroom users add NAME`")
        band = Band(name=name.strip()[:100] or "Band", owner_id=owner_id, created_at=now)
        s.add(band)
        s.flush()
        s.add(BandMember(band_id=band.id, user_id=owner_id, role=ROLE_OWNER, added_at=now))
        s.flush()
        return band_out(s, band, owner_id)


def bands_of(db: Database, user_id: str) -> list[BandOut]:
    with db.read() as s:
        bands = s.scalars(
            select(Band).where(Band.id.in_(access.my_band_ids(user_id))).order_by(Band.name, Band.created_at)
        ).all()
        return [band_out(s, band, user_id) for band in bands]


def get_band(db: Database, band_id: str, user_id: str) -> BandOut:
    with db.read() as s:
        band, _role = _band_of_member(s, band_id, user_id)
        return band_out(s, band, user_id)


def delete_band(db: Database, band_id: str, actor_id: str) -> None:
    with db.write() as s:
        band = _owned_band(s, band_id, actor_id, "delete it")
        s.execute(delete(Band).where(Band.id == band.id))


def add_member(db: Database, band_id: str, actor_id: str, username: str) -> BandOut:
    """Add an account by user name; adding a member twice changes nothing."""
    try:
        with db.write() as s:
            band = _owned_band(s, band_id, actor_id, "add members")
            user = _user(s, username)
            if s.get(BandMember, (band.id, user.id)) is None:
                s.add(BandMember(band_id=band.id, user_id=user.id, role=ROLE_MEMBER, added_at=time.time()))
                s.flush()
            return band_out(s, band, actor_id)
    except IntegrityError:  # the same member added twice at once
        return get_band(db, band_id, actor_id)


def remove_member(db: Database, band_id: str, actor_id: str, username: str) -> BandOut | None:
    """The owner removes anyone but themselves; a member may remove themselves (leave). The member
    loses the band's songs and setlists at once. None when the actor left the band."""
    with db.write() as s:
        band, role = _band_of_member(s, band_id, actor_id)
        user = _user(s, username)
        if user.id != actor_id and role != ROLE_OWNER:
            raise ApiError(403, "forbidden", "only the band's owner can remove other members")
        if user.id == band.owner_id:
            raise ApiError(422, "invalid_request", "the owner cannot leave the band; delete it instead")
        if s.get(BandMember, (band.id, user.id)) is None:
            raise ApiError(404, "not_found", f"{username[:64]!r} is not in this band")
        s.execute(delete(BandMember).where(BandMember.band_id == band.id, BandMember.user_id == user.id))
        return None if user.id == actor_id else band_out(s, band, actor_id)


def share_song(db: Database, band_id: str, actor_id: str, song_id: str) -> BandOut:
    with db.write() as s:
        band, _role = _band_of_member(s, band_id, actor_id)
        if access.writable_song(s, song_id, actor_id) is None:
            raise ApiError(404, "not_found", "no such song")
        _share_songs(s, band.id, actor_id, [song_id])
        return band_out(s, band, actor_id)


def _share_songs(s: Session, band_id: str, actor_id: str, song_ids: list[str]) -> None:
    have = set(s.scalars(select(BandSong.song_id).where(BandSong.band_id == band_id, BandSong.song_id.in_(song_ids))))
    for song_id in song_ids:
        if song_id not in have:
            s.add(BandSong(band_id=band_id, song_id=song_id, shared_by=actor_id, shared_at=time.time()))
    s.flush()


def unshare_song(db: Database, band_id: str, actor_id: str, song_id: str) -> None:
    """The song's owner or the band's owner ends the share; members lose the song at once."""
    with db.write() as s:
        band, role = _band_of_member(s, band_id, actor_id)
        share = s.get(BandSong, (band.id, song_id))
        if share is None or (role != ROLE_OWNER and access.writable_song(s, song_id, actor_id) is None):
            raise ApiError(404, "not_found", "no such song in this band")
        s.delete(share)


def share_setlist(db: Database, band_id: str, actor_id: str, setlist_id: str) -> BandOut:
    """Share a setlist, and with it every song in it that the actor owns (so members can play it)."""
    with db.write() as s:
        band, _role = _band_of_member(s, band_id, actor_id)
        if access.writable_setlist(s, setlist_id, actor_id) is None:
            raise ApiError(404, "not_found", "no such setlist")
        if s.get(BandSetlist, (band.id, setlist_id)) is None:
            s.add(BandSetlist(band_id=band.id, setlist_id=setlist_id, shared_by=actor_id, shared_at=time.time()))
        song_ids = list(s.scalars(select(SetlistEntry.song_id).where(SetlistEntry.setlist_id == setlist_id)))
        owned = [i for i in song_ids if access.writable_song(s, i, actor_id) is not None]
        _share_songs(s, band.id, actor_id, owned)
        return band_out(s, band, actor_id)


def unshare_setlist(db: Database, band_id: str, actor_id: str, setlist_id: str) -> None:
    """Ends the setlist's share (its songs stay shared until they are unshared one by one)."""
    with db.write() as s:
        band, role = _band_of_member(s, band_id, actor_id)
        share = s.get(BandSetlist, (band.id, setlist_id))
        if share is None or (role != ROLE_OWNER and access.writable_setlist(s, setlist_id, actor_id) is None):
            raise ApiError(404, "not_found", "no such setlist in this band")
        s.delete(share)
