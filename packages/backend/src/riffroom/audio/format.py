"""The one audio format inside RiffRoom: float32 stereo at 44.1 kHz, and the mix statistics of a decode.

Decoding produces it, engines separate it, stems are written in it; every module that handles
samples takes these facts from here.
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_RATE = 44100
CHANNELS = 2


@dataclass(frozen=True)
class MixStats:
    """Whole-song statistics of the mono mix, gathered while decoding (demucs normalises by them)."""

    mean: float
    std: float
    peak: float
    frames: int
