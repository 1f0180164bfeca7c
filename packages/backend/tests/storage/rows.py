"""Rows the database tests need, made the same way everywhere."""

from __future__ import annotations

from riffroom.storage.db import Database
from riffroom.storage.models import Song


def add_song(db: Database, sha: str = "a" * 64, owner: str | None = None) -> Song:
    """A stored song with content `sha` (its blob need not exist: job tests never read it)."""
    song = Song(sha256=sha, blob_key=f"songs/{sha[:2]}/{sha}", size_bytes=1, name="s", duration=10.0)
    if owner is not None:
        song.owner_id = owner
    with db.write() as s:
        s.add(song)
    return song
