"""Practice data: each user's workspace of a song, the practice log, and setlists.

A workspace and a log row belong to one user on one song (the song may be another user's, shared
with a band they are in), so "my mix is not yours". `user_id` is a user's id, or `local` on a
server without accounts, so it is no foreign key; rows go with their song (ON DELETE CASCADE) and
with their user (`storage/band_models.py` removes them when the account row is deleted).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from riffroom.storage.models import Base, new_id


class PracticeWorkspace(Base):
    """The saved practice state of one song for one user; `revision` grows by one per write."""

    __tablename__ = "practice_workspaces"

    song_id: Mapped[str] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)

    __table_args__ = (Index("ix_practice_workspaces_user_id", "user_id"),)


class PracticeLogEntry(Base):
    """One chunk of practised time as the client reported it; `client_id` makes a resend harmless."""

    __tablename__ = "practice_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    song_id: Mapped[str] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[float] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)
    loop_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tempo: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)

    __table_args__ = (
        Index("ix_practice_log_user_song_started", "user_id", "song_id", "started_at"),
        UniqueConstraint("user_id", "song_id", "client_id", name="uq_practice_log_client_id"),
    )


class Setlist(Base):
    __tablename__ = "setlists"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)


class SetlistEntry(Base):
    """A song's place in a setlist (each song at most once), with the set's notes for it."""

    __tablename__ = "setlist_entries"

    setlist_id: Mapped[str] = mapped_column(ForeignKey("setlists.id", ondelete="CASCADE"), primary_key=True)
    song_id: Mapped[str] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")


__all__ = ["PracticeLogEntry", "PracticeWorkspace", "Setlist", "SetlistEntry"]
