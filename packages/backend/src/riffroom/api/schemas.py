"""Public shapes of the API (never table rows)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Format = Literal["wav", "flac", "mp3", "opus"]
JobStateName = Literal["queued", "running", "done", "failed", "cancelled"]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class JobOut(BaseModel):
    id: str
    song_id: str
    state: JobStateName
    progress: float
    stage: str
    eta_seconds: float | None
    error: str | None
    error_code: str | None = None
    engine: str = Field(description='the request as asked: "auto", "demucs" or "dsp"')
    model: str | None = Field(description="the model asked for (the server's default when none was)")
    engine_used: str | None = Field(
        None, description='"demucs" or "dsp": what the worker running it chose (`auto` resolved there); null until then'
    )
    model_used: str | None = Field(None, description="the model that worker runs")
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


class LiveOut(BaseModel):
    status: Literal["ok"]


class ReadyChecks(BaseModel):
    database: str = Field(description='"ok", or "error: <exception type>"')
    websockets: int = Field(description="open WebSocket connections on this node")
    workers: dict[str, Any] = Field(description="the job queue's own report: alive and wanted workers, restarts")
    free_disk_bytes: int
    disk: str | None = Field(None, description="present only when free space is below the floor")


class ReadyOut(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: ReadyChecks
