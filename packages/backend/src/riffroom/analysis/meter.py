"""Meter and downbeats: which beats start bars, and how many beats a bar has (3 or 4).

A bar line is where the harmony changes, the bass restarts and the kick lands; each candidate
meter and phase is scored by how much those cues concentrate on its would-be downbeats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METERS = (4, 3)
METER_BIAS = {4: 0.05, 3: 0.0}  # 4/4 wins a tie: it is far more common


@dataclass(frozen=True)
class Meter:
    beats_per_bar: int
    first_downbeat: int  # index of the first beat that starts a bar

    @property
    def time_signature(self) -> str:
        return f"{self.beats_per_bar}/4"


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


def estimate_meter(cue: np.ndarray) -> Meter:
    """The meter and phase whose downbeats carry the most cue above the beats' average."""
    best: tuple[float, int, int] = (-np.inf, 4, 0)
    for m in METERS:
        if len(cue) < 2 * m:
            continue
        for phase in range(m):
            on = cue[phase::m]
            score = float(on.mean() - cue.mean()) / np.sqrt(m - 1) + METER_BIAS[m]
            if score > best[0]:
                best = (score, m, phase)
    return Meter(best[1], best[2])


def bar_positions(n_beats: int, meter: Meter) -> list[tuple[int, int]]:
    """(bar number from 1, beat in bar from 1) per beat; beats before the first downbeat end bar 0."""
    out = []
    m, p = meter.beats_per_bar, meter.first_downbeat
    for i in range(n_beats):
        k = i - p
        out.append((k // m + 1, k % m + 1))
    return out
