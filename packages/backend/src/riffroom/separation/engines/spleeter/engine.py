"""The spleeter engine object: our STFT and mask inference around Spleeter's 2-stem U-Nets.

Spleeter's recipe: STFT 4096 / hop 1024 (Hann), magnitudes of the lowest 1024 bins (about 11 kHz)
in segments of 512 frames, one U-Net per source, and ratio masks from the squared estimates. The
networks say nothing above 11 kHz; vocals carry little there, so that band goes to the
accompaniment, which is the exact residual `mix - vocals`: the stems always sum to the mixture.
With four stems the dsp engine splits the accompaniment into drums, bass and other (what it
would call vocals there is a melodic part: it joins other).

Torch is imported when an engine is made, never when this module is.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from ...engine import SAMPLE_RATE, MixStats
from ..dsp import DspEngine
from ..window_threads import THREADS_ENV, WindowThreads, window_threads_for

if TYPE_CHECKING:
    from .net import SpleeterUNet

N_FFT = 4096
HOP = 1024
BINS = 1024  # the networks' frequency range: bins 0..1023 of 2049, up to about 11 kHz
SEGMENT = 512  # STFT frames per network input
MASK_EPS = 1e-10
VERSION = "v1"  # bump when this inference changes its output (it keys the cache)
# A window fits one 512-frame segment (1 + frames // HOP <= SEGMENT) and is a multiple of 4 hops, so
# the runner's stride (3/4 of it) keeps every chunk on the whole song's STFT frame grid.
GRID = 4 * HOP
WINDOW_FRAMES = (SEGMENT - 4) * HOP

_nets: dict[str, tuple[SpleeterUNet, SpleeterUNet]] = {}
_lock = threading.Lock()


def cached_nets(device: str) -> tuple[SpleeterUNet, SpleeterUNet]:
    """One pair of networks per device per process: reading 118 MB of weights is the slow part."""
    with _lock:
        if device not in _nets:
            from .net import load_nets

            _nets[device] = load_nets(device)
        return _nets[device]


def model_id(stems: int) -> str:
    """The model string that keys the cache: ours, plus the dsp engine's when it splits the rest."""
    if stems == 2:
        return f"2stems-{VERSION}"
    return f"4stems-{VERSION}+{DspEngine.model}"


class SpleeterEngine:
    """Vocals and accompaniment from Spleeter's networks; with `stems=4`, drums/bass/other from dsp."""

    name = "spleeter"
    overlap = 0.25
    normalize_input = False  # Spleeter works on raw magnitudes
    # On CPU, windows run side by side (one torch thread each, the dsp split too; window_threads.py),
    # each its own call: windows of any length go together.
    batch_windows = 1
    mixed_lengths = True

    def __init__(self, stems: int = 4, *, device: str = "cpu", window_frames: int = WINDOW_FRAMES) -> None:
        if stems not in (2, 4):
            raise ValueError(f"spleeter makes 2 or 4 stems, not {stems}")
        if not (GRID <= window_frames <= WINDOW_FRAMES and window_frames % GRID == 0):
            raise ValueError(
                f"spleeter windows are multiples of {GRID} up to {WINDOW_FRAMES} frames, not {window_frames}"
            )
        import torch

        self._torch: Any = torch
        self.device = device
        self.stems = stems
        self.model = model_id(stems)
        self.sources: tuple[str, ...] = ("vocals", "accompaniment") if stems == 2 else DspEngine.sources
        self.segment_frames = window_frames
        self._vocals_net, self._accompaniment_net = cached_nets(device)
        self._window = torch.hann_window(N_FFT, device=device)
        size = window_threads_for(int(os.environ.get(THREADS_ENV, "0") or 0)) if device == "cpu" else 1
        self._threads = WindowThreads(torch, size, "spleeter-window")
        if self._threads.pool is not None:
            self.batch_windows = self._threads.size
        self._dsp = DspEngine(chunk_seconds=window_frames / SAMPLE_RATE) if stems == 4 else None

    def padded_length(self, chunk_frames: int) -> int:
        return chunk_frames

    def use_cores(self, cores: int) -> None:
        """The cores this job may use until it asks again: that many windows side by side."""
        if self._threads.pool is not None:
            self._threads.use(cores)
            self.batch_windows = self._threads.share

    def separate_windows(self, windows: list[np.ndarray], stats: MixStats | None = None) -> list[np.ndarray]:
        """Equal-length windows, side by side on one thread each (each output is its window's own)."""
        if self._threads.pool is not None and len(windows) > 1:
            return self._threads.side_by_side(self._one_window, windows)
        with self._threads.lone():
            return [self._one_window(w) for w in windows]

    def separate_window(self, window: np.ndarray, stats: MixStats | None = None) -> np.ndarray:
        return self.separate_windows([window], stats)[0]

    def _one_window(self, window: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(window, dtype=np.float32)
        vocals = self.vocals(x)
        accompaniment = x - vocals
        if self._dsp is None:
            return np.stack([vocals, accompaniment])
        drums, bass, other, melodic = self._dsp.separate_window(accompaniment)
        out: np.ndarray = np.stack([drums, bass, other + melodic, vocals]).astype(np.float32)
        return out

    def vocals(self, x: np.ndarray) -> np.ndarray:
        """[2, n] mixture -> [2, n] vocals (zero above the networks' band)."""
        torch = self._torch
        n = x.shape[-1]
        if n == 0 or not np.any(x):
            return np.zeros_like(x)
        with torch.inference_mode():
            wav = torch.from_numpy(x).to(self.device)
            spec = torch.stft(
                wav, N_FFT, HOP, window=self._window, center=True, pad_mode="constant", return_complex=True
            )  # [2, 2049, L]
            mask = self.vocal_mask(spec[:, :BINS].abs())  # [2, BINS, L]
            masked = torch.zeros_like(spec)
            masked[:, :BINS] = spec[:, :BINS] * mask
            out = torch.istft(masked, N_FFT, HOP, window=self._window, center=True, length=n)
            result: np.ndarray = out.cpu().numpy().astype(np.float32)
        return result

    def vocal_mask(self, mag: Any) -> Any:
        """[2, BINS, L] magnitudes -> Spleeter's vocal ratio mask, same shape (accompaniment = 1 - it)."""
        torch = self._torch
        frames = mag.shape[-1]
        padded = -(-frames // SEGMENT) * SEGMENT
        x = torch.nn.functional.pad(mag, (0, padded - frames))  # [2, F, T*k]
        x = torch.stack(torch.split(x, SEGMENT, dim=-1)).transpose(2, 3)  # [k, 2, T, F]
        v = self._vocals_net(x) ** 2
        a = self._accompaniment_net(x) ** 2
        ratio = (v + MASK_EPS / 2) / (v + a + MASK_EPS)  # [k, 2, T, F]
        joined = torch.cat(list(ratio.transpose(2, 3)), dim=-1)  # [2, F, T*k]
        return joined[..., :frames]
