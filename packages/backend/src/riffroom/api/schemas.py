"""Public shapes of the API (never table rows)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Format = Literal["wav", "flac", "mp3", "opus"]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class JobOut(BaseModel):
    id: str
    song_id: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float
    stage: str
    eta_seconds: float | None
    error: str | None
    error_code: str | None = None
    engine: str
    model: str | None
    stems: list[str] | None
    attempts: int
    created_at: float
    seq: int


class SongOut(BaseModel):
    id: str
    name: str
    title: str | None
    artist: str | None
    original_filename: str
    format: str
    duration: float
    sample_rate: int
    channels: int
    size_bytes: int
    sha256: str
    created_at: float
    stems: list[str] = Field(description="stems that can be downloaded now")
    job: JobOut | None = Field(None, description="the song's latest separation job")


class SongList(BaseModel):
    songs: list[SongOut]


class SongPatch(BaseModel):
    name: str = Field(min_length=1, max_length=300)


class SeparationRequest(BaseModel):
    engine: Literal["auto", "demucs", "dsp"] = "auto"
    model: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    stems: list[str] | None = Field(None, max_length=6)


class MixRequest(BaseModel):
    gains: dict[str, float | None] = Field(
        default_factory=dict, description="dB per stem (0 = unchanged, null = muted); missing stems stay at 0 dB"
    )
    format: Format = "wav"


class PeaksOut(BaseModel):
    stem: str
    points: int
    duration: float
    min: list[float]
    max: list[float]


class HealthOut(BaseModel):
    status: str
    checks: dict[str, object] = Field(default_factory=dict)
