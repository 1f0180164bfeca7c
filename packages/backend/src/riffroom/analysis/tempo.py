"""Local tempo: a tempo path through windowed onset autocorrelations, allowed to ramp and jump.

One BPM for a whole song is wrong for live-played music and for songs that change tempo; the path is
smoothed by a Viterbi search so it follows real changes but not every fluctuation.
"""

from __future__ import annotations

import numpy as np

from .signal import FRAME_RATE

MIN_BPM, MAX_BPM = 55.0, 200.0
BPM_GRID = np.geomspace(MIN_BPM, MAX_BPM, 160)  # ~0.8 % steps
WINDOW_S, STEP_S = 8.0, 1.0
PRIOR_CENTRE_BPM, PRIOR_OCTAVES = 115.0, 0.9
JUMP_COST = 6.0  # per octave of tempo change between two steps


def windowed_autocorrelation(onset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised onset autocorrelation per window: ([windows, lags], window centres in frames)."""
    win, step = int(WINDOW_S * FRAME_RATE), int(STEP_S * FRAME_RATE)
    max_lag = int(np.ceil(2 * 60.0 * FRAME_RATE / MIN_BPM)) + 2
    padded = np.pad(onset.astype(np.float64), (win // 2, win // 2))
    centres = np.arange(0, len(onset), step)
    n_fft = 1 << int(np.ceil(np.log2(2 * win)))
    taper = np.hanning(win)
    segs = np.stack([padded[c : c + win] for c in centres]) if len(centres) else np.zeros((0, win))
    segs = (segs - segs.mean(axis=1, keepdims=True)) * taper
    spec = np.fft.rfft(segs, n_fft, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, n_fft, axis=1)[:, :max_lag]
    ac /= ac[:, :1] + 1e-12
    return ac, centres


def tempo_salience(ac: np.ndarray) -> np.ndarray:
    """[windows, BPM_GRID]: autocorrelation at the beat lag, backed by the two-beat lag."""
    lags = 60.0 * FRAME_RATE / BPM_GRID
    lag_axis = np.arange(ac.shape[1])

    def at(lag: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(lag, lag_axis, row) for row in ac])

    sal = at(lags) + 0.5 * at(2 * lags) + 0.25 * at(lags / 2)
    return np.maximum(sal, 0.0)


def tempo_path(onset: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-frame BPM along the best tempo path, and its mean salience (how periodic the onsets are)."""
    ac, centres = windowed_autocorrelation(onset)
    if len(centres) == 0:
        return np.full(len(onset), PRIOR_CENTRE_BPM), 0.0
    sal = tempo_salience(ac)
    log_grid = np.log2(BPM_GRID)
    prior = -0.5 * ((log_grid - np.log2(PRIOR_CENTRE_BPM)) / PRIOR_OCTAVES) ** 2
    obs = np.log(sal + 1e-3) + prior
    trans = -JUMP_COST * np.abs(log_grid[:, None] - log_grid[None, :])
    score = obs[0].copy()
    back = np.zeros(sal.shape, dtype=np.int64)
    for t in range(1, len(centres)):
        cand = score[:, None] + trans
        back[t] = np.argmax(cand, axis=0)
        score = cand[back[t], np.arange(len(BPM_GRID))] + obs[t]
    path = np.zeros(len(centres), dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(len(centres) - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    bpm_at_centres = BPM_GRID[path]
    clarity = float(np.mean(ac[np.arange(len(centres)), np.round(60.0 * FRAME_RATE / bpm_at_centres).astype(int)]))
    per_frame = np.interp(np.arange(len(onset)), centres, bpm_at_centres)
    return per_frame, clarity
