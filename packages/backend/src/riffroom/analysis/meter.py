"""Meter and downbeats: which beats start bars, how many beats a bar has, simple or compound.

A bar line is where the harmony changes, the bass restarts and the kick lands; each candidate
meter and phase is scored by how much those cues concentrate on its would-be downbeats.

6/8 against 3/4: both have six eighths a bar, and a beat tracker tends to lock on to every second
eighth, which reads 6/8 as 3/4. `is_compound` looks at the drums on the eighth-note grid: in 3/4
the accents (kick, snare) fall on every second eighth, in 6/8 on every third (kick on 1, snare on
4). A compound song's beats are then the dotted quarters, two to a 6/8 bar, each split in three.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METERS = (4, 3)
METER_BIAS = {4: 0.05, 3: 0.0, 2: 0.0}  # 4/4 wins a tie: it is far more common
COMPOUND_METERS = (2,)  # dotted-quarter beats a bar: 6/8 (9/8 and 12/8 are not told apart from it)
COMPOUND_CONTRAST = 3.0  # every-third-eighth accent contrast over the every-second one, to call it compound
MIN_COMPOUND_CONTRAST = 0.3  # and that contrast itself, relative to the mean eighth's onset


@dataclass(frozen=True)
class Meter:
    beats_per_bar: int
    first_downbeat: int  # index of the first beat that starts a bar
    compound: bool = False  # beats are dotted quarters (6/8), not quarters

    @property
    def time_signature(self) -> str:
        return f"{3 * self.beats_per_bar}/8" if self.compound else f"{self.beats_per_bar}/4"


def harmonic_change(beat_chroma: np.ndarray) -> np.ndarray:
    """[beats] cosine distance between the chroma before and after each beat (0 for the first)."""
    unit = beat_chroma / (np.linalg.norm(beat_chroma, axis=0, keepdims=True) + 1e-9)
    out = np.zeros(beat_chroma.shape[1])
    if beat_chroma.shape[1] > 1:
        out[1:] = 1.0 - np.sum(unit[:, 1:] * unit[:, :-1], axis=0)
    return out


def _zscore(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-9) if len(x) else x


def downbeat_cue(cues: list[np.ndarray]) -> np.ndarray:
    """Sum of the z-scored per-beat cues (each as long as the beat list)."""
    out: np.ndarray = np.sum([_zscore(c) for c in cues], axis=0)
    return out


def _grouping_contrasts(e: np.ndarray) -> tuple[float, float]:
    """(every-second, every-third) accent contrast of a stretch of eighths, relative to its mean."""
    mean = float(e.mean()) + 1e-9
    two = [float(e[p::2].mean()) for p in range(2)]
    three = [float(e[p::3].mean()) for p in range(3)]
    top = int(np.argmax(three))
    return abs(two[0] - two[1]) / mean, (three[top] - (sum(three) - three[top]) / 2) / mean


def is_compound(eighths: np.ndarray) -> bool:
    """Whether the accents group the eighths in threes (6/8) rather than twos (3/4, 4/4).

    `eighths` is the drums' onset strength on an eighth-note grid (the beats and the points half-way
    between them), read two bars (12 eighths) at a time so that a slowly drifting grid still counts."""
    if len(eighths) < 24:
        return False
    pairs = np.array([_grouping_contrasts(eighths[i : i + 12]) for i in range(0, len(eighths) - 11, 6)])
    c2, c3 = float(np.median(pairs[:, 0])), float(np.median(pairs[:, 1]))
    return c3 >= MIN_COMPOUND_CONTRAST and c3 >= COMPOUND_CONTRAST * c2


def estimate_meter(cue: np.ndarray, compound: bool = False) -> Meter:
    """The meter and phase whose downbeats carry the most cue above the beats' average."""
    best: tuple[float, int, int] = (-np.inf, COMPOUND_METERS[0] if compound else 4, 0)
    for m in COMPOUND_METERS if compound else METERS:
        if len(cue) < 2 * m:
            continue
        for phase in range(m):
            on = cue[phase::m]
            score = float(on.mean() - cue.mean()) / np.sqrt(m - 1) + METER_BIAS[m]
            if score > best[0]:
                best = (score, m, phase)
    return Meter(best[1], best[2], compound)


def bar_positions(n_beats: int, meter: Meter) -> list[tuple[int, int]]:
    """(bar number from 1, beat in bar from 1) per beat; beats before the first downbeat end bar 0."""
    out = []
    m, p = meter.beats_per_bar, meter.first_downbeat
    for i in range(n_beats):
        k = i - p
        out.append((k // m + 1, k % m + 1))
    return out
