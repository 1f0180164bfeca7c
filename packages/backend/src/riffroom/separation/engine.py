"""The small protocol every separation engine implements.

An engine sees float32 stereo windows at `SAMPLE_RATE` and returns one array per source. The
chunked runner (runner.py) owns everything else: reading, overlap, crossfade, writing,
progress and cancellation, so an engine stays a pure function of its window.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..audio.format import SAMPLE_RATE, MixStats

__all__ = ["ALL_STEMS", "SAMPLE_RATE", "Engine", "MixStats"]

ALL_STEMS = ("vocals", "drums", "bass", "guitar", "piano", "other")


class Engine(Protocol):
    """A separator working on one window at a time."""

    @property
    def name(self) -> str:
        """ "demucs" | "dsp"."""
        ...

    @property
    def model(self) -> str:
        """Model name and version: part of the cache key."""
        ...

    @property
    def sources(self) -> tuple[str, ...]:
        """Order of the stems in separate_window's output."""
        ...

    @property
    def segment_frames(self) -> int:
        """Frames per chunk."""
        ...

    @property
    def overlap(self) -> float:
        """Fraction of a chunk shared with the next one."""
        ...

    @property
    def normalize_input(self) -> bool:
        """True: windows arrive as (x - mean) / std of the whole song and the output is scaled back."""
        ...

    def padded_length(self, chunk_frames: int) -> int:
        """Frames of input the engine wants for a chunk (context is taken from the neighbours)."""
        ...

    def separate_window(self, window: np.ndarray, stats: MixStats | None) -> np.ndarray:
        """[2, padded_length] float32 -> [len(sources), 2, padded_length] float32. `stats` are
        the whole song's when the engine normalises, else None (a new song may still be decoding)."""
        ...
