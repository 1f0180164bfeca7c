"""Audio preparation shared by every analysis step: mono at the analysis rate, onset strength.

Analysis runs at 22.05 kHz mono: beats and harmony need nothing above 11 kHz, and half the samples
halve the cost of every transform after it.
"""

from __future__ import annotations

from math import gcd

import numpy as np
from scipy import signal as sps

ANALYSIS_RATE = 22050
HOP = 512  # onset and chroma frames: 23.2 ms at 22.05 kHz
FRAME_RATE = ANALYSIS_RATE / HOP
_BLOCK_FRAMES = 256  # STFT frames transformed at once: bounds memory, not speed


def to_mono(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """[channels, samples] (or [samples]) float audio at any rate -> float32 mono at ANALYSIS_RATE."""
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=0)
    elif x.ndim != 1:
        raise ValueError(f"audio must be [channels, samples] or [samples], got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("audio contains NaN or infinite samples")
    if sample_rate != ANALYSIS_RATE:
        g = gcd(int(sample_rate), ANALYSIS_RATE)
        x = sps.resample_poly(x, ANALYSIS_RATE // g, int(sample_rate) // g)
    return x.astype(np.float32)


def stft_projection(y: np.ndarray, n_fft: int, bank: np.ndarray, hop: int = HOP) -> np.ndarray:
    """`bank @ |STFT|` [rows, frames] (Hann window, frames centred on multiples of `hop`).

    Computed a block of frames at a time, so memory stays at one block's spectrum (~16 MB)
    however long the song: the whole |STFT| of a 20-minute song at n_fft 8192 would be ~10 GB
    on the way (complex spectrum and windowed frames), of which the projection keeps ~1/100.
    """
    pad = np.pad(y, (n_fft // 2, n_fft // 2))
    n_frames = 1 + max(0, (len(pad) - n_fft) // hop)
    frames = np.lib.stride_tricks.as_strided(
        pad, shape=(n_frames, n_fft), strides=(pad.strides[0] * hop, pad.strides[0]), writeable=False
    )
    win = np.hanning(n_fft).astype(np.float32)
    out = np.empty((bank.shape[0], n_frames), dtype=np.float32)
    for start in range(0, n_frames, _BLOCK_FRAMES):
        block = frames[start : start + _BLOCK_FRAMES]
        mag = np.abs(np.fft.rfft(block * win, axis=1)).T.astype(np.float32)
        out[:, start : start + len(block)] = bank @ mag
    return out


def log_bands(y: np.ndarray) -> np.ndarray:
    """[64, frames] log-compressed energies of 64 log-spaced bands (30 Hz-11 kHz), one frame per HOP."""
    freqs = np.fft.rfftfreq(2048, 1.0 / ANALYSIS_RATE)
    edges = np.geomspace(30.0, 11000.0, 65)
    idx = np.searchsorted(edges, freqs) - 1
    keep = (idx >= 0) & (idx < 64)
    bank = np.zeros((64, len(freqs)), dtype=np.float32)
    bank[idx[keep], np.nonzero(keep)[0]] = 1.0
    bands = stft_projection(y, 2048, bank)
    out: np.ndarray = np.log1p(1000.0 * bands / (bands.max() + 1e-12))
    return out


def onset_strength(y: np.ndarray, logb: np.ndarray | None = None) -> np.ndarray:
    """Spectral flux of `log_bands`, one value per HOP frame, with its local median removed."""
    if logb is None:
        logb = log_bands(y)
    flux = np.maximum(0.0, np.diff(logb, axis=1, prepend=logb[:, :1])).mean(axis=0)
    flux -= sps.medfilt(flux, 31) if len(flux) >= 31 else np.median(flux)
    out: np.ndarray = np.maximum(flux, 0.0).astype(np.float32)
    return out
