"""The STFT pair every dsp cue works on, and the soft frequency edge several cues share."""

from __future__ import annotations

import numpy as np

EPS = 1e-10  # floor under every denominator, so silent bins give 0 rather than NaN


def stft(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """[C, N] -> [C, F, T] complex64, centred Hann frames, zero padded."""
    c, n = x.shape
    n_frames = 1 + int(np.ceil(n / hop))
    total = (n_frames - 1) * hop + n_fft
    buf = np.zeros((c, total), dtype=np.float32)
    buf[:, n_fft // 2 : n_fft // 2 + n] = x
    frames = np.lib.stride_tricks.sliding_window_view(buf, n_fft, axis=1)[:, ::hop][:, :n_frames]
    win = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    spec = np.fft.rfft(frames * win, axis=-1)
    return np.ascontiguousarray(spec.transpose(0, 2, 1)).astype(np.complex64)


def istft(spec: np.ndarray, n_fft: int, hop: int, n: int) -> np.ndarray:
    """[..., F, T] -> [..., n] float32 (weighted overlap-add, inverse of `stft`)."""
    lead = spec.shape[:-2]
    t = spec.shape[-1]
    win = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    frames = np.fft.irfft(np.swapaxes(spec, -1, -2), n=n_fft, axis=-1).astype(np.float32) * win
    total = (t - 1) * hop + n_fft
    out = np.zeros((*lead, total), dtype=np.float32)
    norm = np.zeros(total, dtype=np.float32)
    for i in range(t):
        out[..., i * hop : i * hop + n_fft] += frames[..., i, :]
        norm[i * hop : i * hop + n_fft] += win * win
    out /= np.maximum(norm, 1e-8)
    return out[..., n_fft // 2 : n_fft // 2 + n]


def lowpass(freqs: np.ndarray, cutoff_hz: float, roll_hz: float) -> np.ndarray:
    """A soft low-pass weight per bin: 1 well below cutoff_hz, 0 well above (logistic, width roll_hz / 4)."""
    return 1.0 / (1.0 + np.exp(np.clip((freqs - cutoff_hz) / (roll_hz / 4), -50, 50)))
