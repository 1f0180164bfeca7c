"""Public shapes of the API (never table rows)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Format = Literal["wav", "flac", "mp3", "opus"]
RangeFormat = Literal["wav", "flac"]  # what a range of a stem (start/end) can be served as
JobStateName = Literal["queued", "running", "done", "failed", "cancelled"]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class NotReadyBody(ErrorBody):
    code: Literal["not_ready"] = "not_ready"
    job_id: str | None = Field(None, description="the job separating (or recomputing) the stems")
    ready_seconds: float | None = Field(
        None, description="for a range read: how far the stems are ready; ask again for a range that ends there"
    )


class NotReadyOut(BaseModel):
    """409: the stems (or the range asked for) are not separated yet."""

    error: NotReadyBody


class JobOut(BaseModel):
    id: str
    song_id: str
    state: JobStateName
    progress: float
    stage: str
    eta_seconds: float | None
    ready_seconds: float = Field(
        0.0,
        description="seconds from the start of the song that are final in every stem and readable with "
        "`GET /api/songs/{id}/stems/{stem}?start=&end=`; only grows while the job runs (a re-queued job "
        "starts again from 0), the stems' duration when done, 0 when failed or cancelled",
    )
    error: str | None
    error_code: str | None = None
    engine: str = Field(description='the request as asked: "auto", "demucs", "spleeter" or "dsp"')
    model: str | None = Field(description="the model asked for (the server's default when none was)")
    engine_used: str | None = Field(
        None,
        description='"demucs", "spleeter" or "dsp": what the worker running it chose (`auto` resolved there); '
        "null until then",
    )
    model_used: str | None = Field(None, description="the model that worker runs")
    stems: list[str] | None
    attempts: int
    created_at: float
    seq: int


class BandRef(BaseModel):
    id: str
    name: str


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
    stems_job: JobOut | None = Field(
        None,
        description="the finished job whose stems are served (its `engine_used`/`model_used` made them): "
        "while a newer separation runs, the stems of this one stay",
    )
    owned: bool = Field(default=True, description="false for a song another user shared with a band you are in")
    bands: list[BandRef] = Field(
        default_factory=list, description="the bands it is shared with (that you are in, when it is not yours)"
    )


class SongList(BaseModel):
    songs: list[SongOut]


class SongPatch(BaseModel):
    name: str = Field(min_length=1, max_length=300)


class SeparationRequest(BaseModel):
    engine: Literal["auto", "demucs", "spleeter", "dsp"] | None = Field(
        None, description="none: the server's `default_engine` setting (itself `auto` unless the operator changed it)"
    )
    model: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description='a demucs model ("htdemucs", ...), or "2stems"/"4stems" with the spleeter engine',
    )
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


class AnalysisSpan(BaseModel):
    start: float = Field(description="seconds")
    end: float = Field(description="seconds")
    label: str = Field(description='a chord as a Harte label ("C#:min", "N" for none) or a section ("A", "B")')


class BeatPositionOut(BaseModel):
    time: float = Field(description="seconds")
    bar: int = Field(description="from 1; 0 for a pickup before the first downbeat")
    beat: int = Field(description="the beat within its bar, from 1")


class AnalysisCorrections(BaseModel):
    """What the user corrected; each field left at its default changes nothing."""

    first_downbeat: float | None = Field(
        None, description="seconds of the beat that becomes beat 1 of a bar (snapped to the nearest beat)"
    )
    tempo_factor: float = Field(
        1,
        description="0.5 keeps every other beat, 2 adds one between each two; bpm and tempo curve follow",
        json_schema_extra={"enum": [0.5, 1, 2]},
    )
    time_signature: str | None = Field(
        None, max_length=8, description='"3/4", "4/4", "6/8"...: bars of that many beats (the numerator)'
    )
    chords: list[AnalysisSpan] = Field(
        default_factory=list, max_length=5000, description="chords that replace the analysis's over their spans"
    )


class AnalysisOut(BaseModel):
    """A song's beats, bars, tempo, key, chords and sections, with the user's corrections applied."""

    version: int = Field(description="the analysis version that made it")
    bpm: float | None
    time_signature: str | None
    steady_beat: bool = Field(description="false: no beat grid (free time, noise, silence); beats are empty")
    message: str | None = Field(description="why there is no beat grid, or that the analysis failed")
    beats: list[float] = Field(description="seconds")
    downbeats: list[float] = Field(description="seconds of every beat 1")
    beat_positions: list[BeatPositionOut]
    tempo_curve: list[tuple[float, float]] = Field(description="[seconds, bpm] at each beat")
    key: str | None = Field(description='e.g. "C# minor"')
    key_confidence: float = Field(description="0..1")
    chords: list[AnalysisSpan]
    sections: list[AnalysisSpan]
    corrections: AnalysisCorrections
