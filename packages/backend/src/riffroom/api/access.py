"""Who may read and who may change a song, a job or a setlist: the one place these rules live.

- **read** (see it, play its stems, peaks and analysis, separate it, keep a workspace and a log of
  one's own on it): its owner, and every member of a band it is shared with;
- **write** (rename, delete, share with a band, change a setlist): its owner only.

Everyone else gets None here, which the routes answer with the same 404 as an id that never
existed, and the WebSocket with `not_found`. Every check reads the database, so a member removed
from a band or a song unshared loses access with the next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from riffroom.api.schemas import BandRef
from riffroom.storage.band_models import Band, BandMember, BandSetlist, BandSong
from riffroom.storage.models import Job, Song
from riffroom.storage.practice_models import Setlist


def my_band_ids(user_id: str) -> Any:
    """The bands `user_id` is in (a subquery)."""
    return select(BandMember.band_id).where(BandMember.user_id == user_id)


def songs_shared_with(user_id: str) -> Any:
    """Ids of the songs shared with a band `user_id` is in (a subquery)."""
    return select(BandSong.song_id).where(BandSong.band_id.in_(my_band_ids(user_id)))


def song_readable_by(user_id: str) -> Any:
    """A WHERE clause: songs `user_id` may read."""
    return or_(Song.owner_id == user_id, Song.id.in_(songs_shared_with(user_id)))


def setlist_readable_by(user_id: str) -> Any:
    shared = select(BandSetlist.setlist_id).where(BandSetlist.band_id.in_(my_band_ids(user_id)))
    return or_(Setlist.owner_id == user_id, Setlist.id.in_(shared))


def readable_song(s: Session, song_id: str, user_id: str) -> Song | None:
    return s.scalars(select(Song).where(Song.id == song_id, song_readable_by(user_id))).first()


def writable_song(s: Session, song_id: str, user_id: str) -> Song | None:
    song = s.get(Song, song_id)
    return song if song is not None and song.owner_id == user_id else None


def readable_song_ids(s: Session, user_id: str, song_ids: Iterable[str]) -> set[str]:
    ids = list(set(song_ids))
    if not ids:
        return set()
    return set(s.scalars(select(Song.id).where(Song.id.in_(ids), song_readable_by(user_id))))


def readable_job(s: Session, job_id: str, user_id: str) -> Job | None:
    job = s.get(Job, job_id)
    if job is None or readable_song(s, job.song_id, user_id) is None:
        return None
    return job


def writable_job(s: Session, job_id: str, user_id: str) -> Job | None:
    job = s.get(Job, job_id)
    if job is None or writable_song(s, job.song_id, user_id) is None:
        return None
    return job


def readable_setlist(s: Session, setlist_id: str, user_id: str) -> Setlist | None:
    return s.scalars(select(Setlist).where(Setlist.id == setlist_id, setlist_readable_by(user_id))).first()


def writable_setlist(s: Session, setlist_id: str, user_id: str) -> Setlist | None:
    setlist = s.get(Setlist, setlist_id)
    return setlist if setlist is not None and setlist.owner_id == user_id else None


def unreadable_jobs(s: Session, followed: dict[str, set[str]]) -> dict[str, set[str]]:
    """Of the jobs each user follows ({user: {job ids}}), those that user may no longer read."""
    all_jobs = {job_id for jobs in followed.values() for job_id in jobs}
    if not all_jobs:
        return {}
    rows = s.execute(
        select(Job.id, Song.id, Song.owner_id).join(Song, Song.id == Job.song_id).where(Job.id.in_(all_jobs))
    )
    song_of: dict[str, tuple[str, str]] = {job_id: (song_id, owner) for job_id, song_id, owner in rows}
    lost: dict[str, set[str]] = {}
    for user_id, jobs in followed.items():
        foreign = {j: song_of[j][0] for j in jobs if j in song_of and song_of[j][1] != user_id}
        readable = readable_song_ids(s, user_id, foreign.values()) if foreign else set()
        gone = {j for j in jobs if j not in song_of} | {j for j, song_id in foreign.items() if song_id not in readable}
        if gone:
            lost[user_id] = gone
    return lost


def bands_of_songs(s: Session, user_id: str, songs: Iterable[Song]) -> dict[str, list[BandRef]]:
    """For each song, the bands it is shared with that `user_id` may know of: all of them for the
    song's owner, only the ones `user_id` is in otherwise."""
    return _bands_sharing(s, user_id, {song.id: song.owner_id for song in songs}, BandSong.song_id, BandSong.band_id)


def bands_of_setlists(s: Session, user_id: str, setlists: Iterable[Setlist]) -> dict[str, list[BandRef]]:
    """As `bands_of_songs`, for setlists."""
    owners = {setlist.id: setlist.owner_id for setlist in setlists}
    return _bands_sharing(s, user_id, owners, BandSetlist.setlist_id, BandSetlist.band_id)


def _bands_sharing(
    s: Session, user_id: str, owners: dict[str, str], item_id: Any, band_id_column: Any
) -> dict[str, list[BandRef]]:
    """The bands each item (id -> owner) is shared with, through the share table of `item_id`."""
    if not owners:
        return {}
    mine = set(s.scalars(my_band_ids(user_id)))
    rows = s.execute(
        select(item_id, Band.id, Band.name)
        .join(Band, Band.id == band_id_column)
        .where(item_id.in_(list(owners)))
        .order_by(Band.name)
    )
    out: dict[str, list[BandRef]] = {key: [] for key in owners}
    for key, band_id, name in rows:
        if owners[key] == user_id or band_id in mine:
            out[key].append(BandRef(id=band_id, name=name))
    return out
