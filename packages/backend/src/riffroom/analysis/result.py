"""The typed result of an analysis and its JSON form (what the cache stores and the API serves)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    label: str

    def to_json(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "label": self.label}


@dataclass(frozen=True)
class BeatPosition:
    time: float
    bar: int  # from 1; 0 for a pickup before the first downbeat
    beat: int  # beat within the bar, from 1

    def to_json(self) -> dict[str, Any]:
        return {"time": round(self.time, 3), "bar": self.bar, "beat": self.beat}


@dataclass(frozen=True)
class Analysis:
    """Beats, bars, tempo, key, chords and sections of one song."""

    bpm: float | None
    time_signature: str | None
    beats: list[float]
    downbeats: list[float]
    beat_positions: list[BeatPosition]
    tempo_curve: list[tuple[float, float]]
    key: str | None
    key_confidence: float
    chords: list[Segment]
    sections: list[Segment]
    steady_beat: bool
    message: str | None = None

    @classmethod
    def empty(cls, message: str) -> Analysis:
        """No beat, key or chords: what silence, or an analysis that could not run, gives."""
        return cls(
            bpm=None,
            time_signature=None,
            beats=[],
            downbeats=[],
            beat_positions=[],
            tempo_curve=[],
            key=None,
            key_confidence=0.0,
            chords=[],
            sections=[],
            steady_beat=False,
            message=message,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "bpm": None if self.bpm is None else round(self.bpm, 2),
            "time_signature": self.time_signature,
            "beats": [round(b, 3) for b in self.beats],
            "downbeats": [round(b, 3) for b in self.downbeats],
            "beat_positions": [p.to_json() for p in self.beat_positions],
            "tempo_curve": [[round(t, 3), round(b, 2)] for t, b in self.tempo_curve],
            "key": self.key,
            "key_confidence": round(self.key_confidence, 3),
            "chords": [c.to_json() for c in self.chords],
            "sections": [s.to_json() for s in self.sections],
            "steady_beat": self.steady_beat,
            "message": self.message,
        }
