"""SQLAlchemy 2 models: songs, separation jobs and their events, corrections to a song's analysis.

Rows are never returned by the API as they are: they are turned into the public shapes of
api/schemas.py. `owner_id` is a user's id (storage/auth_models.py), or `local` for songs
uploaded while the server had no accounts (`riffroom users adopt` gives them to a user).
"""

from __future__ import annotations

import time
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


ACTIVE_STATES = (JobState.queued.value, JobState.running.value)
FINAL_STATES = (JobState.done.value, JobState.failed.value, JobState.cancelled.value)


class Song(Base):
    __tablename__ = "songs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(64), default="local", index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    blob_key: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    original_filename: Mapped[str] = mapped_column(String(300), default="")
    title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    artist: Mapped[str | None] = mapped_column(String(300), nullable=True)
    format_name: Mapped[str] = mapped_column(String(64), default="")
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    sample_rate: Mapped[int] = mapped_column(Integer, default=0)
    channels: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)

    __table_args__ = (UniqueConstraint("owner_id", "sha256", name="uq_song_owner_sha"),)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    song_id: Mapped[str] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"), index=True)
    # Same owner + content + request => same key (jobs/store.dedupe_key); one active job per key.
    dedupe_key: Mapped[str] = mapped_column(String(300), index=True)
    # The request as asked: engine "auto" | "demucs" | "dsp", a model name, stems (None = all).
    engine: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stems: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # What the worker running it chose ("demucs" | "dsp", and the model): `auto` resolved there.
    engine_used: Mapped[str | None] = mapped_column(String(32), nullable=True)
    model_used: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=JobState.queued.value, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(64), default="queued")
    eta_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=300.0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    cancel_requested_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)  # last event's sequence number
    # Seconds of every stem that are final and readable (stem store segments); only grows within
    # an attempt, the song's duration when done, 0 once failed or cancelled (their data is gone).
    ready_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    # When a player last asked for a range of this job's song: such jobs are claimed first.
    listening_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Written last, with `done`: {"cache_key": the stem cache entry, "engine", "model": what ran,
    # "stems": [names served], "duration": seconds, "cached": whether the cache already had them}
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time, index=True)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)

    __table_args__ = (
        Index(
            "uq_job_active_dedupe",
            "dedupe_key",
            unique=True,
            sqlite_where=text("state IN ('queued', 'running')"),
            postgresql_where=text("state IN ('queued', 'running')"),
        ),
    )


class JobEvent(Base):
    """Every progress and state change of a job, in order; replayed to resuming clients."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)

    # AUTOINCREMENT: ids are never reused after pruning, so "events after id N" never skips one.
    __table_args__ = (UniqueConstraint("job_id", "seq", name="uq_event_job_seq"), {"sqlite_autoincrement": True})


class AnalysisCorrection(Base):
    """What a user corrected in a song's analysis (analysis/corrections.py applies it); one row per
    song, so it belongs to the song's owner and goes with the song."""

    __tablename__ = "analysis_corrections"

    song_id: Mapped[str] = mapped_column(ForeignKey("songs.id", ondelete="CASCADE"), primary_key=True)
    first_downbeat: Mapped[float | None] = mapped_column(Float, nullable=True)  # seconds of a beat 1
    tempo_factor: Mapped[float] = mapped_column(Float, default=1.0)  # 0.5, 1 or 2
    time_signature: Mapped[str | None] = mapped_column(String(8), nullable=True)
    chords: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{start, end, label}]
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)
