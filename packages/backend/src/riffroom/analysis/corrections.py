"""A user's corrections to an analysis: move the bar grid, halve or double the tempo, set the
meter, replace chords over spans.

`apply_corrections(analysis_json, corrections)` is pure: the JSON of `Analysis.to_json()` in, the
same shape corrected out. The analysis itself is never changed, so a correction can be undone
and a newer analysis version still takes the user's corrections.

- `tempo_factor` 0.5 keeps every other beat (the beats that carry the downbeat), 2 inserts the
  midpoint between each two beats; `bpm` and `tempo_curve` follow.
- `time_signature` "N/D" regroups the beats into bars of N beats, except compound meters (6/8,
  9/8, 12/8), whose beats are dotted quarters as the analysis counts them: N/3 beats a bar.
- `first_downbeat` (seconds) snaps to the nearest beat, which becomes beat 1 of a bar; beats
  before the first bar line are a pickup (bar 0), as in the analysis.
- `chords` replace the analysis's chords over their spans; the analysis's chords outside them stay.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

TEMPO_FACTORS = (0.5, 1.0, 2.0)
CHORD_QUALITIES = ("maj", "min", "7", "maj7", "min7", "dim", "aug", "sus2", "sus4")
MAX_CHORDS = 5000
MAX_SECONDS = 24 * 3600.0
_CHORD = re.compile(r"^(N|[A-G][#b]?:(" + "|".join(CHORD_QUALITIES) + "))$")
_TIME_SIGNATURE = re.compile(r"^([1-9][0-9]?)/(2|4|8|16)$")
_MAX_BEATS_PER_BAR = 16


class CorrectionError(ValueError):
    """A correction that cannot be applied; the message says which field and why."""


@dataclass(frozen=True)
class ChordEdit:
    start: float
    end: float
    label: str

    def to_json(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "label": self.label}


@dataclass(frozen=True)
class Corrections:
    first_downbeat: float | None = None
    tempo_factor: float = 1.0
    time_signature: str | None = None
    chords: tuple[ChordEdit, ...] = field(default_factory=tuple)

    @property
    def moves_beats(self) -> bool:
        return self.first_downbeat is not None or self.tempo_factor != 1.0 or self.time_signature is not None

    def to_json(self) -> dict[str, Any]:
        factor = self.tempo_factor
        return {
            "first_downbeat": self.first_downbeat,
            "tempo_factor": int(factor) if factor.is_integer() else factor,
            "time_signature": self.time_signature,
            "chords": [c.to_json() for c in self.chords],
        }


NO_CORRECTIONS = Corrections()


def is_chord_label(label: str) -> bool:
    """A Harte label as mir_eval writes it: `N`, or root A-G (with # or b) `:` a known quality."""
    return bool(_CHORD.match(label))


def beats_per_bar(time_signature: str) -> int:
    """The bar length in beats of "N/D" (its numerator; N/3 for 6/8, 9/8, 12/8); CorrectionError otherwise."""
    match = _TIME_SIGNATURE.match(time_signature)
    if match is None or not 1 <= int(match.group(1)) <= _MAX_BEATS_PER_BAR:
        raise CorrectionError(
            f"time_signature {time_signature[:16]!r} is not a time signature: use N/D with N from 1 to"
            f" {_MAX_BEATS_PER_BAR} beats and D 2, 4, 8 or 16, e.g. 3/4, 4/4 or 6/8"
        )
    beats = int(match.group(1))
    if match.group(2) == "8" and beats in _COMPOUND:
        return beats // 3  # dotted-quarter beats, as the analysis reports compound meters
    return beats


_COMPOUND = (6, 9, 12)


def parse_corrections(data: Mapping[str, Any]) -> Corrections:
    """Corrections from their JSON form, checked; CorrectionError saying what is wrong."""
    unknown = set(data) - {"first_downbeat", "tempo_factor", "time_signature", "chords"}
    if unknown:
        raise CorrectionError(f"unknown correction fields: {', '.join(sorted(unknown))}")
    first = data.get("first_downbeat")
    if first is not None:
        first = _seconds(first, "first_downbeat")
    factor = data.get("tempo_factor", 1.0)
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or float(factor) not in TEMPO_FACTORS:
        raise CorrectionError(f"tempo_factor must be 0.5, 1 or 2, not {factor!r}")
    signature = data.get("time_signature")
    if signature is not None:
        if not isinstance(signature, str):
            raise CorrectionError("time_signature must be a string such as 3/4, 4/4 or 6/8, or null")
        beats_per_bar(signature)
    return Corrections(first, float(factor), signature, _chord_edits(data.get("chords") or []))


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CorrectionError(f"{where} must be a number of seconds")
    if not 0.0 <= float(value) <= MAX_SECONDS:
        raise CorrectionError(f"{where} must be between 0 and {MAX_SECONDS:.0f} seconds, not {value}")
    return float(value)


def _chord_edits(items: Any) -> tuple[ChordEdit, ...]:
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise CorrectionError("chords must be a list of {start, end, label}")
    if len(items) > MAX_CHORDS:
        raise CorrectionError(f"at most {MAX_CHORDS} chord corrections, not {len(items)}")
    edits = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or set(item) != {"start", "end", "label"}:
            raise CorrectionError(f"chords[{i}] must be exactly {{start, end, label}}")
        start, end = _seconds(item["start"], f"chords[{i}].start"), _seconds(item["end"], f"chords[{i}].end")
        label = item["label"]
        if not isinstance(label, str) or not is_chord_label(label):
            raise CorrectionError(
                f"chords[{i}].label {str(label)[:24]!r} is not a chord label: use N (no chord) or a root"
                f" A-G (with # or b), a colon and one of {', '.join(CHORD_QUALITIES)}, e.g. C#:min"
            )
        if end <= start:
            raise CorrectionError(f"chords[{i}] ends ({end} s) before it starts ({start} s)")
        edits.append(ChordEdit(start, end, label))
    edits.sort(key=lambda c: c.start)
    for before, after in pairwise(edits):
        if after.start < before.end - 1e-9:
            raise CorrectionError(
                f"chord corrections overlap: {before.label} {before.start}-{before.end} s and"
                f" {after.label} {after.start}-{after.end} s"
            )
    return tuple(edits)


def apply_corrections(analysis: Mapping[str, Any], corrections: Corrections | Mapping[str, Any]) -> dict[str, Any]:
    """`analysis` (the JSON of `Analysis.to_json()`) with `corrections` applied; neither is changed."""
    fix = corrections if isinstance(corrections, Corrections) else parse_corrections(corrections)
    out = dict(analysis)
    beats = [float(b) for b in analysis.get("beats") or []]
    if fix.time_signature is not None:
        out["time_signature"] = fix.time_signature
    if beats and fix.moves_beats:
        anchor = fix.first_downbeat
        if anchor is None:
            downbeats = analysis.get("downbeats") or []
            anchor = float(downbeats[0]) if downbeats else beats[0]
        if fix.tempo_factor != 1.0:
            out.update(_retempo(analysis, beats, fix.tempo_factor, anchor))
            beats = out["beats"]
        per_bar = beats_per_bar(fix.time_signature) if fix.time_signature else _analysed_beats_per_bar(analysis)
        positions = _positions(beats, per_bar, _nearest(beats, anchor))
        out["beat_positions"] = positions
        out["downbeats"] = [p["time"] for p in positions if p["beat"] == 1]
        out["time_signature"] = fix.time_signature or analysis.get("time_signature") or f"{per_bar}/4"
    if fix.chords:
        out["chords"] = _replace_chords(analysis.get("chords") or [], fix.chords)
    return out


def _analysed_beats_per_bar(analysis: Mapping[str, Any]) -> int:
    signature = analysis.get("time_signature")
    if isinstance(signature, str) and _TIME_SIGNATURE.match(signature):
        return beats_per_bar(signature)
    return max((int(p["beat"]) for p in analysis.get("beat_positions") or []), default=4)


def _nearest(times: Sequence[float], t: float) -> int:
    return min(range(len(times)), key=lambda i: abs(times[i] - t))


def _retempo(analysis: Mapping[str, Any], beats: list[float], factor: float, anchor: float) -> dict[str, Any]:
    """Beats, bpm and tempo curve at `factor` times the analysed tempo."""
    if factor < 1.0:  # keep the beats in phase with the anchor, so the chosen downbeat survives
        new = beats[_nearest(beats, anchor) % 2 :: 2]
    else:
        new = [t for a, b in pairwise(beats) for t in (a, round((a + b) / 2, 3))] + beats[-1:]
    curve = [(float(t), float(b)) for t, b in analysis.get("tempo_curve") or []]
    new_curve = [[t, round(_interp(curve, t) * factor, 2)] for t in new] if curve else []
    bpm = analysis.get("bpm")
    return {
        "beats": new,
        "tempo_curve": new_curve,
        "bpm": None if bpm is None else round(float(bpm) * factor, 2),
    }


def _interp(curve: list[tuple[float, float]], t: float) -> float:
    """The curve's bpm at `t`: linear between its points, flat beyond its ends."""
    if t <= curve[0][0]:
        return curve[0][1]
    for (t0, b0), (t1, b1) in pairwise(curve):
        if t <= t1:
            return b0 if t1 == t0 else b0 + (b1 - b0) * (t - t0) / (t1 - t0)
    return curve[-1][1]


def _positions(beats: Sequence[float], per_bar: int, downbeat_index: int) -> list[dict[str, Any]]:
    """Bar and beat of every beat, with `beats[downbeat_index]` on a beat 1; a pickup is bar 0."""
    first_bar = downbeat_index % per_bar
    out = []
    for i, t in enumerate(beats):
        beat = (i - downbeat_index) % per_bar + 1
        bar = (i - first_bar) // per_bar + 1 if i >= first_bar else 0
        out.append({"time": round(float(t), 3), "bar": bar, "beat": beat})
    return out


def _replace_chords(chords: Sequence[Mapping[str, Any]], edits: Sequence[ChordEdit]) -> list[dict[str, Any]]:
    """The analysis's chords cut away wherever an edit lies, and the edits laid in."""
    pieces: list[dict[str, Any]] = [e.to_json() for e in edits]
    for chord in chords:
        spans = [(float(chord["start"]), float(chord["end"]))]
        for edit in edits:
            spans = [part for s, e in spans for part in _minus(s, e, edit.start, edit.end)]
        pieces += [{"start": round(s, 3), "end": round(e, 3), "label": chord["label"]} for s, e in spans]
    return sorted(pieces, key=lambda c: float(c["start"]))


def _minus(start: float, end: float, cut_start: float, cut_end: float) -> list[tuple[float, float]]:
    """[start, end) without [cut_start, cut_end): zero, one or two spans, none shorter than 1 ms."""
    parts = [(start, min(end, cut_start)), (max(start, cut_end), end)]
    return [(s, e) for s, e in parts if e - s >= 1e-3]
