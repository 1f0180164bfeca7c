"""The dsp engine object: the `Engine` protocol around the cue masks of `masks.py`."""

from __future__ import annotations

import numpy as np

from ...engine import SAMPLE_RATE, MixStats
from .masks import stem_masks
from .params import DspParams
from .spectrum import istft, stft
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
        spec = stft(x, self.params.n_fft, self.params.hop)
        masks = stem_masks(spec, self.params)
        if self.params.wiener:
            est = wiener(spec, masks)
        else:
            est = masks[:, None] * spec[None]
        for j in (0, 1, 3):
            out[j] = istft(est[j], self.params.n_fft, self.params.hop, n)
        out[2] = x - out[0] - out[1] - out[3]
        return out
