"""The STFT pair every dsp cue works on, and the soft frequency edge several cues share."""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft

EPS = 1e-10  # floor under every denominator, so silent bins give 0 rather than NaN


@functools.lru_cache(maxsize=8)
def hann(n_fft: int) -> np.ndarray:
    """The periodic Hann window (float32), made once per size and shared read-only."""
    win: np.ndarray = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    win.flags.writeable = False
    return win


@functools.lru_cache(maxsize=32)
def _ola_norm(n_fft: int, hop: int, t: int) -> np.ndarray:
    """The summed squared window under `t` overlapped frames, floored (the istft's divisor)."""
    win = hann(n_fft)
    norm: np.ndarray = np.maximum(overlap_add((win * win)[None, :].repeat(t, axis=0), hop), np.float32(1e-8))
    norm.flags.writeable = False
    return norm


def overlap_add(frames: np.ndarray, hop: int) -> np.ndarray:
    """[..., T, n_fft] -> [..., (T - 1) * hop + n_fft]: frames summed at `hop` spacing, in frame order."""
    *lead, t, n_fft = frames.shape
    total = (t - 1) * hop + n_fft
    if n_fft % hop:
        out = np.zeros((*lead, total), dtype=frames.dtype)
        for i in range(t):
            out[..., i * hop : i * hop + n_fft] += frames[..., i, :]
        return out
    r = n_fft // hop
    blocks = np.zeros((*lead, t + r - 1, hop), dtype=frames.dtype)
    # block j sums frames j - r + 1 .. j; adding the parts of the earliest frame first keeps the order
    # (and so every float sum) of a frame-by-frame loop
    for k in reversed(range(r)):
        blocks[..., k : k + t, :] += frames[..., :, k * hop : (k + 1) * hop]
    return blocks.reshape(*lead, total)


def stft_frames(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """[C, N] -> [C, T, F] complex64, centred Hann frames, zero padded (frame-major: the FFT's own layout)."""
    c, n = x.shape
    n_frames = 1 + int(np.ceil(n / hop))
    total = (n_frames - 1) * hop + n_fft
    buf = np.zeros((c, total), dtype=np.float32)
    buf[:, n_fft // 2 : n_fft // 2 + n] = x
    frames = np.lib.stride_tricks.sliding_window_view(buf, n_fft, axis=1)[:, ::hop][:, :n_frames]
    spec: np.ndarray = scipy.fft.rfft(frames * hann(n_fft), axis=-1)  # (numpy's float32 rfft is ~3x slower)
    return spec.astype(np.complex64, copy=False)


def stft(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """[C, N] -> [C, F, T] complex64, centred Hann frames, zero padded."""
    return np.ascontiguousarray(stft_frames(x, n_fft, hop).transpose(0, 2, 1))


def istft_frames(spec: np.ndarray, n_fft: int, hop: int, n: int) -> np.ndarray:
    """[..., T, F] -> [..., n] float32 (weighted overlap-add, inverse of `stft_frames`)."""
    t = spec.shape[-2]
    frames = scipy.fft.irfft(spec, n=n_fft, axis=-1).astype(np.float32, copy=False)
    frames *= hann(n_fft)
    out = overlap_add(frames, hop)[..., n_fft // 2 : n_fft // 2 + n]
    result: np.ndarray = out / _ola_norm(n_fft, hop, t)[n_fft // 2 : n_fft // 2 + n]
    return result


def istft(spec: np.ndarray, n_fft: int, hop: int, n: int) -> np.ndarray:
    """[..., F, T] -> [..., n] float32 (weighted overlap-add, inverse of `stft`)."""
    return istft_frames(np.swapaxes(spec, -1, -2), n_fft, hop, n)


def lowpass(freqs: np.ndarray, cutoff_hz: float, roll_hz: float) -> np.ndarray:
    """A soft low-pass weight per bin (float32): 1 well below cutoff_hz, 0 well above (logistic, width roll_hz / 4)."""
    weight: np.ndarray = 1.0 / (1.0 + np.exp(np.clip((freqs - cutoff_hz) / (roll_hz / 4), -50, 50)))
    return weight.astype(np.float32)
