"""Small files that decode to far more than they look: made with ffmpeg, then headers edited to lie."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=120)


def silent_flac(dst: Path, hours: float = 3.0, hide_length: bool = False) -> Path:
    """Hours of silence in ~2 MB of FLAC; `hide_length` zeroes STREAMINFO's sample count."""
    if dst.exists():
        return dst
    _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", str(hours * 3600), "-c:a", "flac", str(dst))
    if hide_length:
        data = bytearray(dst.read_bytes())
        assert data[:4] == b"fLaC"
        (word,) = struct.unpack(">Q", data[18:26])  # sample rate 20 | channels 3 | bits 5 | total samples 36
        data[18:26] = struct.pack(">Q", word & ~((1 << 36) - 1))
        dst.write_bytes(bytes(data))
    return dst


def low_bitrate_mp3(dst: Path, minutes: float = 30.0) -> Path:
    """Half an hour in under 2 MB: 8 kbps, 8 kHz mono."""
    if dst.exists():
        return dst
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:r=8000",
        "-t",
        str(minutes * 60),
        "-ac",
        "1",
        "-ar",
        "8000",
        "-b:a",
        "8k",
        str(dst),
    )
    return dst


def lying_wav(dst: Path, seconds: float = 1.0) -> Path:
    """A one-second WAV whose RIFF and data sizes claim about six hours."""
    if dst.exists():
        return dst
    _ffmpeg("-f", "lavfi", "-i", "sine=f=440:r=44100", "-t", str(seconds), "-ac", "2", "-c:a", "pcm_s16le", str(dst))
    data = bytearray(dst.read_bytes())
    at = data.index(b"data")
    data[4:8] = struct.pack("<I", 0xFFFFFFF0)
    data[at + 4 : at + 8] = struct.pack("<I", 0xFFFFFFE0)
    dst.write_bytes(bytes(data))
    return dst


def lying_mp4(dst: Path, seconds: float = 2.0) -> Path:
    """A two-second AAC in MP4 whose movie header claims about a day."""
    if dst.exists():
        return dst
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:r=44100",
        "-t",
        str(seconds),
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-movflags",
        "+faststart",
        str(dst),
    )
    data = bytearray(dst.read_bytes())
    at = data.index(b"mvhd")
    version = data[at + 4]
    if version == 0:  # size type version flags ctime mtime timescale duration
        (timescale,) = struct.unpack(">I", data[at + 16 : at + 20])
        data[at + 20 : at + 24] = struct.pack(">I", min(0xFFFFFFFF, timescale * 86400))
    dst.write_bytes(bytes(data))
    return dst
