"""Pitch-class profiles: a semitone spectrogram folded to 12 classes, per frame and per beat.

The treble chroma comes from the harmonic stems (no drums, no vocals: the melody is not the chord);
the bass chroma from the bass stem alone, at a finer frequency resolution, to name the chord root.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from .signal import ANALYSIS_RATE, HOP, stft_projection


def _semitone_bank(n_fft: int, rate: float, lo_midi: int, hi_midi: int) -> np.ndarray:
    """[semitones, bins] triangular filters one semitone wide, centred on each MIDI pitch."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    with np.errstate(divide="ignore"):
        midi = 69.0 + 12.0 * np.log2(np.maximum(freqs, 1e-6) / 440.0)
    pitches = np.arange(lo_midi, hi_midi + 1)
    bank = np.maximum(0.0, 1.0 - np.abs(midi[None, :] - pitches[:, None]))
    out: np.ndarray = bank.astype(np.float32)
    return out


def _fold(semis: np.ndarray, lo_midi: int) -> np.ndarray:
    chroma = np.zeros((12, semis.shape[1]), dtype=np.float32)
    for i in range(semis.shape[0]):
        chroma[(lo_midi + i) % 12] += semis[i]
    return chroma


def treble_chroma(y: np.ndarray) -> np.ndarray:
    """[12, frames] log-compressed chroma of MIDI 43..95 (G2..B6) from 22.05 kHz mono audio."""
    lo, hi = 43, 95
    semis = stft_projection(y, 8192, _semitone_bank(8192, ANALYSIS_RATE, lo, hi))
    semis = np.log1p(100.0 * semis / (semis.max() + 1e-12))
    return _fold(semis, lo)


def bass_chroma(y: np.ndarray) -> np.ndarray:
    """[12, frames] chroma of MIDI 26..57 (D1..A3): the bass line, at 1.3 Hz resolution."""
    lo, hi, factor = 26, 57, 4
    low = sps.resample_poly(y, 1, factor).astype(np.float32)
    semis = stft_projection(low, 4096, _semitone_bank(4096, ANALYSIS_RATE / factor, lo, hi), HOP // factor)
    semis = np.log1p(100.0 * semis / (semis.max() + 1e-12))
    return _fold(semis, lo)


def synchronise(features: np.ndarray, boundaries: np.ndarray) -> np.ndarray:
    """Mean of feature frames between consecutive frame boundaries: [dims, len(boundaries) - 1]."""
    n = features.shape[1]
    b = np.clip(np.round(boundaries).astype(int), 0, n)
    out = np.zeros((features.shape[0], max(0, len(b) - 1)), dtype=np.float32)
    for i in range(len(b) - 1):
        lo, hi = b[i], max(b[i + 1], b[i] + 1)
        out[:, i] = features[:, lo : min(hi, n)].mean(axis=1) if lo < n else 0.0
    return out
