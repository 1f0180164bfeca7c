"""Deleting a song: the one path for `DELETE /api/songs/{id}` and `riffroom users remove`.

Its queued and running separations are cancelled first (a running worker stops at its next
chunk), then the row goes (its jobs, events and analysis corrections with it, and every user's
workspace, practice log, setlist entries and band shares of it, by ON DELETE CASCADE), then the
uploaded file, unless another song row (another user's upload of the same content) still points at it.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from riffroom.jobs import store
from riffroom.storage.blobs import BlobStore
from riffroom.storage.db import Database
from riffroom.storage.models import ACTIVE_STATES, AnalysisCorrection, Job, Song


def delete_song(db: Database, blobs: BlobStore, song: Song) -> bool:
    """Delete `song`; returns whether its blob went too (False: still used by another song)."""
    with db.read() as s:
        active = list(s.scalars(select(Job.id).where(Job.song_id == song.id, Job.state.in_(ACTIVE_STATES))))
    for job_id in active:
        store.request_cancel(db, job_id)
    with db.write() as s:
        s.execute(delete(AnalysisCorrection).where(AnalysisCorrection.song_id == song.id))
        s.execute(delete(Song).where(Song.id == song.id))
        still_used = s.scalar(select(func.count()).select_from(Song).where(Song.blob_key == song.blob_key))
    if not still_used:
        blobs.delete(song.blob_key)
    return not still_used
