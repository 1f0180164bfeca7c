"""The dsp engine object: the `Engine` protocol around the cue masks of `masks.py`."""

from __future__ import annotations

import numpy as np

from ...engine import SAMPLE_RATE, MixStats
from .masks import stem_masks
from .params import DspParams
from .spectrum import istft_frames, stft_frames
from .wiener import wiener


class DspEngine:
    """Weight-free separator into drums, bass, other and vocals (see the package docstring)."""

    name = "dsp"
    model = "dsp-v6"
    sources = ("drums", "bass", "other", "vocals")
    normalize_input = False  # works on the raw mix; the runner must not rescale it

    def __init__(self, chunk_seconds: float = 30.0, overlap: float = 0.1, params: DspParams | None = None) -> None:
        self.segment_frames = max(1, round(chunk_seconds * SAMPLE_RATE))
        self.overlap = overlap
        self.params = params or DspParams()

    def padded_length(self, chunk_frames: int) -> int:
        return chunk_frames

    def separate_window(self, window: np.ndarray, stats: MixStats | None = None) -> np.ndarray:
        x = np.asarray(window, dtype=np.float32)
        if x.ndim == 1:
            x = np.stack([x, x])
        n = x.shape[-1]
        out = np.zeros((4, 2, n), dtype=np.float32)
        if n < self.params.hop or not np.any(x):
            out[2] = x  # too short to analyse (or silent): everything is "other"
            return out
        spec_tf = stft_frames(x, self.params.n_fft, self.params.hop)  # [2, T, F]
        spec = np.ascontiguousarray(spec_tf.transpose(0, 2, 1))  # [2, F, T], the cues' layout
        masks = stem_masks(spec, self.params)
        inverted = (0, 1, 3)  # "other" is the exact residual, so it needs no inverse STFT
        if self.params.wiener:
            est_tf = np.swapaxes(wiener(spec, masks)[list(inverted)], -1, -2)
        else:
            # masked in the frame-major layout, so the inverse FFT reads contiguous rows
            est_tf = np.empty((len(inverted), *spec_tf.shape), dtype=np.complex64)
            for row, j in enumerate(inverted):
                np.multiply(np.ascontiguousarray(masks[j].T), spec_tf, out=est_tf[row])
        out[list(inverted)] = istft_frames(est_tf, self.params.n_fft, self.params.hop, n)
        out[2] = x - out[0] - out[1] - out[3]
        return out
