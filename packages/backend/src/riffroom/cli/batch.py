"""What the per-song commands (`separate`, `analyze`) share: engine options, failures, a progress bar.

A batch goes on past a bad song: each failure is one line on stderr naming the file and the
reason, and the command exits non-zero at the end.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import RiffRoomError

ENGINE_CHOICES = ("auto", "demucs", "spleeter", "dsp")
# Demucs models, and Spleeter's (with --engine spleeter).
MODEL_CHOICES = ("htdemucs", "htdemucs_6s", "htdemucs_ft", "demucs_unittest", "2stems", "4stems")

# What one song can fail with, without stopping the others.
SONG_ERRORS = (RiffRoomError, ValueError, OSError)


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """--engine, --model and --device, as every command that separates takes them."""
    parser.add_argument("--engine", choices=ENGINE_CHOICES, default=None)
    parser.add_argument("--model", choices=MODEL_CHOICES, default=None)
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None)


def song_error(exc: Exception) -> Exception:
    """The error to show for one song: an OS error becomes "cannot read it (...)"."""
    if isinstance(exc, OSError) and exc.strerror:
        return RiffRoomError(f"cannot read it ({exc.strerror.lower()})")
    return exc


class TerminalBar:
    """A tqdm bar on stderr for one song: stage, percent and ETA."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar: Any = tqdm(total=100, leave=True, bar_format="{desc} |{bar}| {n:3.0f}% {unit}")

    def show(self, label: str, stage: str, fraction: float, eta_seconds: float | None) -> None:
        self._bar.n = 100 * fraction
        self._bar.unit = "" if eta_seconds is None else f"ETA {eta_seconds:.0f} s"
        self._bar.set_description_str(f"{label[:30]} {stage:<10}", refresh=True)

    def close(self) -> None:
        self._bar.close()
