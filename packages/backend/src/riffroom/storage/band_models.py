"""Bands: accounts that practise together, and the songs and setlists shared with them.

A band and its memberships need accounts (foreign keys to `users`, ON DELETE CASCADE), so deleting
an account ends its memberships and the bands it owns. Sharing never copies a song: the member
reads the owner's song (and its separation, computed once) through `api/access.py`.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Float, ForeignKey, String, delete, event
from sqlalchemy.orm import Mapped, mapped_column

from riffroom.storage.auth_models import User
from riffroom.storage.models import Base, new_id
from riffroom.storage.practice_models import PracticeLogEntry, PracticeWorkspace, Setlist

ROLE_OWNER = "owner"
ROLE_MEMBER = "member"


class Band(Base):
    __tablename__ = "bands"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


class BandMember(Base):
    """The owner is a member too (role `owner`); everyone else is `member`."""

    __tablename__ = "band_members"

    band_id: Mapped[str] = mapped_column(ForeignKey("bands.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default=ROLE_MEMBER)
    added_at: Mapped[float] = mapped_column(Float, default=time.time)


class BandSong(Base):
    __tablename__ = "band_songs"

    band_id: Mapped[str] = mapped_column(ForeignKey("bands.id", ondelete="CASCADE"), primary_key=True)
    song_id: Mapped[str] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True, index=True)
    shared_by: Mapped[str] = mapped_column(String(64))
    shared_at: Mapped[float] = mapped_column(Float, default=time.time)


class BandSetlist(Base):
    __tablename__ = "band_setlists"

    band_id: Mapped[str] = mapped_column(ForeignKey("bands.id", ondelete="CASCADE"), primary_key=True)
    setlist_id: Mapped[str] = mapped_column(ForeignKey("setlists.id", ondelete="CASCADE"), primary_key=True, index=True)
    shared_by: Mapped[str] = mapped_column(String(64))
    shared_at: Mapped[float] = mapped_column(Float, default=time.time)


@event.listens_for(User, "after_delete")
def _forget_practice_data(_mapper: Any, connection: Any, user: User) -> None:
    """An account's workspaces, practice log and setlists go with it, in the same transaction
    (its memberships and bands go by the foreign keys)."""
    for table in (PracticeWorkspace, PracticeLogEntry):
        connection.execute(delete(table).where(table.user_id == user.id))
    connection.execute(delete(Setlist).where(Setlist.owner_id == user.id))


__all__ = ["ROLE_MEMBER", "ROLE_OWNER", "Band", "BandMember", "BandSetlist", "BandSong"]
