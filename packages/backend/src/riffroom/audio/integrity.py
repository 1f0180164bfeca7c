"""Noticing files cut short where ffmpeg itself stays quiet.

ffprobe derives a WAV's duration from the bytes present, so a WAV cut in half looks like a
shorter, healthy file. The RIFF header still says how much data was promised: compare.
"""

from __future__ import annotations

import struct
from pathlib import Path

from ..errors import BadInputError

_STREAMING_SIZES = (0, 0xFFFFFFFF)  # writers that could not seek back leave these


def check_wav_complete(path: Path) -> None:
    """Raise BadInputError(code="truncated") when the RIFF data chunk promises more than the file holds."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                if chunk_size in _STREAMING_SIZES:
                    return
                available = size - pos - 8
                if chunk_size > available:
                    held, promised = available, chunk_size
                    raise BadInputError(
                        f"truncated: the file holds {100 * held / promised:.0f}% of the audio its header promises",
                        code="truncated",
                    )
                return
            pos += 8 + chunk_size + (chunk_size & 1)
