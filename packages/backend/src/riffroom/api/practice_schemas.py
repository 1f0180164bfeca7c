"""Public shapes of a song's practice workspace and practice log (published in /openapi.json).

The workspace `state` is validated field by field: an unknown field or a value out of range is
refused with a message naming the field, so a client bug never stores a state another device
cannot restore. Times are seconds from the start of the song; tempo is a ratio (1.0 = as recorded).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from riffroom.api.schemas import ErrorBody

StemName = Literal["vocals", "drums", "bass", "other", "guitar", "piano"]
MixStemName = Literal["vocals", "drums", "bass", "other", "guitar", "piano", "click"]
ItemId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
NOTES_MAX_CHARS = 10_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StemControls(_Strict):
    volume_db: float = Field(default=0.0, ge=-120.0, le=12.0, description="-120 is silent")
    muted: bool = False
    solo: bool = False
    pan: float = Field(default=0.0, ge=-1.0, le=1.0)


class ClickSettings(_Strict):
    enabled: bool = False
    volume_db: float = Field(default=-6.0, ge=-120.0, le=12.0)
    pan: float = Field(default=0.0, ge=-1.0, le=1.0)
    sound: Literal["wood", "beep", "tick"] = "wood"
    count_in_bars: Literal[0, 1, 2, 4] = 0
    count_in_every_pass: bool = Field(
        default=False, description="count in before every pass of a loop, not only the first"
    )


class SpeedTrainer(_Strict):
    """Pass n of the loop (from 0) plays at min(stop_pct, start_pct + step_pct * (n // every_passes)) %."""

    start_pct: float = Field(ge=50.0, le=150.0)
    step_pct: float = Field(gt=0.0, le=50.0)
    every_passes: int = Field(ge=1, le=100)
    stop_pct: float = Field(ge=50.0, le=150.0)

    @model_validator(mode="after")
    def _stop_after_start(self) -> SpeedTrainer:
        if self.stop_pct < self.start_pct:
            raise ValueError("stop_pct must be at least start_pct")
        return self


class Loop(_Strict):
    id: ItemId
    name: str = Field(default="", max_length=80)
    start: float = Field(ge=0.0)
    end: float = Field(gt=0.0)
    speed_trainer: SpeedTrainer | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> Loop:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Marker(_Strict):
    id: ItemId
    time: float = Field(ge=0.0)
    label: str = Field(default="", max_length=80)


class PracticeState(_Strict):
    """Everything a user set up to practise one song; any device restores it before the first sound."""

    stems: dict[MixStemName, StemControls] = Field(default_factory=dict, description="per stem; missing = defaults")
    master_db: float = Field(default=0.0, ge=-120.0, le=12.0)
    tempo: float = Field(default=1.0, ge=0.5, le=1.5, description="playback speed, 1.0 = as recorded")
    transpose: int = Field(default=0, ge=-12, le=12, description="semitones")
    capo: int = Field(default=0, ge=0, le=11)
    click: ClickSettings = Field(default_factory=lambda: ClickSettings())
    loops: list[Loop] = Field(default_factory=list, max_length=50)
    active_loop_id: str | None = Field(default=None, description="the loop playing, one of `loops`' ids")
    markers: list[Marker] = Field(default_factory=list, max_length=500)
    my_part: StemName | None = Field(default=None, description="the stem this user plays: one key mutes it")
    notes: str = Field(default="", max_length=NOTES_MAX_CHARS)

    @model_validator(mode="after")
    def _ids(self) -> PracticeState:
        loop_ids = [loop.id for loop in self.loops]
        if len(set(loop_ids)) != len(loop_ids):
            raise ValueError("loops: two loops have the same id")
        if len({m.id for m in self.markers}) != len(self.markers):
            raise ValueError("markers: two markers have the same id")
        if self.active_loop_id is not None and self.active_loop_id not in loop_ids:
            raise ValueError("active_loop_id: no loop has this id")
        return self


class PracticeOut(BaseModel):
    revision: int = Field(description="0 until the first save; each save adds one")
    state: PracticeState
    updated_at: float | None = None


class PracticePut(_Strict):
    revision: int = Field(ge=0, description="the revision this state was based on (what the last GET or PUT said)")
    state: PracticeState


class StaleRevisionOut(BaseModel):
    """409: the workspace changed since `revision` was read; here is what the server has now."""

    error: ErrorBody
    revision: int
    state: PracticeState


class PracticeSession(_Strict):
    """A chunk of practised time; a client reports them as it goes (and resends after being offline)."""

    id: str | None = Field(
        default=None, min_length=1, max_length=64, description="client-made id: a resend is not counted twice"
    )
    started_at: float = Field(gt=0.0, description="Unix time the chunk started")
    seconds: float = Field(gt=0.0, le=3600.0)
    loop_id: str | None = Field(default=None, min_length=1, max_length=64)
    tempo: float = Field(ge=0.5, le=1.5)


class PracticeLogIn(_Strict):
    sessions: list[PracticeSession] = Field(min_length=1, max_length=100)


class PracticeLogAdded(BaseModel):
    added: int = Field(description="sessions stored; a resent id is not stored again")


class PracticeDay(BaseModel):
    date: str = Field(description="YYYY-MM-DD in the asked time zone offset")
    seconds: float


class PracticeLoopTotal(BaseModel):
    loop_id: str
    name: str | None = Field(description="the loop's name in this user's workspace, when it is still there")
    seconds: float
    first_tempo: float = Field(description="tempo of the first session in the window")
    best_tempo: float = Field(description="the highest tempo practised in the window")


class PracticeLogOut(BaseModel):
    days: list[PracticeDay] = Field(description="every day of the window, oldest first, 0 when not practised")
    loops: list[PracticeLoopTotal]
    total_seconds: float = Field(description="in the whole window")
    week_seconds: float = Field(description="in the last 7 days")
