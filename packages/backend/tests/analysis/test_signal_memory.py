"""The analysis transforms keep one block of spectrum in memory, not the whole song's."""

from __future__ import annotations

import tracemalloc

import numpy as np
from riffroom.analysis.chroma import treble_chroma
from riffroom.analysis.signal import ANALYSIS_RATE, HOP, stft_projection


def test_the_blocked_projection_equals_the_whole_spectrum_projected() -> None:
    rng = np.random.default_rng(5)
    y = rng.standard_normal(ANALYSIS_RATE * 3).astype(np.float32)
    n_fft = 2048
    bank = rng.random((24, n_fft // 2 + 1)).astype(np.float32)
    pad = np.pad(y, (n_fft // 2, n_fft // 2))
    n_frames = 1 + (len(pad) - n_fft) // HOP
    frames = np.stack([pad[i * HOP : i * HOP + n_fft] for i in range(n_frames)])
    whole = bank @ np.abs(np.fft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=1)).T.astype(np.float32)
    np.testing.assert_allclose(stft_projection(y, n_fft, bank), whole, rtol=1e-5, atol=1e-4)


def test_chroma_of_a_long_song_needs_little_more_memory_than_the_song() -> None:
    """90 s at n_fft 8192: the whole |STFT| on the way would take ~1 GB; one block takes ~16 MB."""
    y = np.random.default_rng(6).standard_normal(ANALYSIS_RATE * 90).astype(np.float32)
    tracemalloc.start()
    try:
        chroma = treble_chroma(y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert chroma.shape[0] == 12
    assert peak < 120 * 2**20, f"treble_chroma peaked at {peak / 2**20:.0f} MB"
