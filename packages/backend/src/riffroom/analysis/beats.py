"""Beat tracking by dynamic programming (Ellis 2007) along a time-varying tempo path.

Each beat is placed on a strong onset about one local beat period after the one before; the period
comes from `tempo.tempo_path`, so ramps and sudden changes are followed instead of averaged away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .signal import FRAME_RATE
from .tempo import tempo_path

TIGHTNESS = 300.0
MIN_CLARITY = 0.2  # mean onset autocorrelation at the beat lag below which no beat is claimed
MIN_BEAT_CONTRAST = 1.3  # onset strength on beats vs between them


@dataclass(frozen=True)
class BeatTrack:
    beats: np.ndarray  # seconds
    steady: bool
    clarity: float
    contrast: float


def track_beats(onset: np.ndarray) -> BeatTrack:
    """Beats in seconds from an onset envelope (FRAME_RATE frames per second)."""
    if len(onset) < 4 * FRAME_RATE or float(onset.max(initial=0.0)) <= 1e-9:
        return BeatTrack(np.zeros(0), False, 0.0, 0.0)
    bpm, clarity = tempo_path(onset)
    period = 60.0 * FRAME_RATE / bpm
    norm = onset / (onset.std() + 1e-12)
    frames = _dp_beats(norm, period)
    contrast = _beat_contrast(norm, frames)
    steady = clarity >= MIN_CLARITY and contrast >= MIN_BEAT_CONTRAST and len(frames) >= 4
    return BeatTrack(frames / FRAME_RATE, steady, clarity, contrast)


def track_at_period(onset: np.ndarray, period_frames: np.ndarray) -> BeatTrack:
    """Beats `period_frames` (per frame) apart: a metrical level chosen elsewhere, e.g. 6/8's dotted quarters."""
    norm = onset / (onset.std() + 1e-12)
    frames = _dp_beats(norm, period_frames)
    contrast = _beat_contrast(norm, frames)
    clarity = float(_autocorrelation_at(onset, float(np.median(period_frames))))
    return BeatTrack(frames / FRAME_RATE, len(frames) >= 4, clarity, contrast)


def _autocorrelation_at(onset: np.ndarray, lag: float) -> float:
    x = onset.astype(np.float64) - onset.mean()
    k = round(lag)
    return float(x[:-k] @ x[k:] / (x @ x + 1e-12)) if 0 < k < len(x) else 0.0


def _dp_beats(score: np.ndarray, period: np.ndarray) -> np.ndarray:
    n = len(score)
    cum = score.astype(np.float64).copy()
    back = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        p = period[i]
        lo, hi = max(0, int(i - 2 * p)), int(i - p / 2)
        if hi <= lo:
            continue
        gaps = i - np.arange(lo, hi + 1)
        cand = cum[lo : hi + 1] - TIGHTNESS * np.log(gaps / p) ** 2
        k = int(np.argmax(cand))
        cum[i] = score[i] + cand[k]
        back[i] = lo + k
    # the last beat: the best cumulative score within one period of the end
    tail_start = max(0, int(n - period[-1]))
    i = tail_start + int(np.argmax(cum[tail_start:]))
    out = []
    while i >= 0:
        out.append(i)
        i = int(back[i])
    frames = np.array(out[::-1], dtype=np.float64)
    return _trim_silent_ends(score, frames)


def _trim_silent_ends(score: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Drop leading/trailing beats that sit in near-silence (the DP keeps stepping through it)."""
    if len(frames) == 0:
        return frames
    idx = frames.astype(int)
    loc = np.array([score[max(0, i - 2) : i + 3].max() for i in idx])
    thresh = 0.1 * np.median(loc)
    keep = np.nonzero(loc > thresh)[0]
    return frames[keep[0] : keep[-1] + 1] if len(keep) else frames[:0]


def _beat_contrast(score: np.ndarray, frames: np.ndarray) -> float:
    """Mean onset strength on beats over the mean strength half-way between them."""
    if len(frames) < 3:
        return 0.0
    on = np.array([score[max(0, int(f) - 1) : int(f) + 2].max() for f in frames])
    mids = ((frames[:-1] + frames[1:]) / 2).astype(int)
    quarter = ((frames[1:] - frames[:-1]) / 4).astype(int)
    off_frames = np.concatenate([mids - quarter, mids + quarter])
    off = score[np.clip(off_frames, 0, len(score) - 1)]
    return float(on.mean() / (off.mean() + 1e-9))
