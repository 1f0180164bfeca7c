"""Judging what a file is: magic bytes first, then ffprobe restricted to local files.

Extensions and Content-Type are never trusted. Playlists and concat lists are refused before
ffmpeg ever parses them, so no upload can make ffmpeg read another file.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings, get_settings
from ..errors import BadInputError
from . import sandbox
from .ffmpeg import PROTOCOL_ARGS, tool

# ffprobe demuxer names we accept (first name of ffprobe's comma-separated format_name).
AUDIO_DEMUXERS = {
    "mp3",
    "wav",
    "w64",
    "flac",
    "ogg",
    "mov",
    "aiff",
    "matroska",
    "aac",
    "caf",
    "au",
    "wv",
    "ape",
}

_TEXT_SIGNS = (b"#EXTM3U", b"ffconcat", b"#EXT-X", b"file ", b"<html", b"<!doctype", b"<?xml", b"[playlist]")


@dataclass(frozen=True)
class AudioInfo:
    """What ffprobe says about a file; durations from headers are only hints (decode enforces caps)."""

    format_name: str
    duration: float | None
    sample_rate: int
    channels: int
    title: str | None = None
    artist: str | None = None


def sniff(head: bytes) -> str | None:
    """Name of the container the magic bytes show, or None when they show no audio container."""
    if head.startswith(b"RIFF") and head[8:12] in (b"WAVE", b"RF64"):
        return "wav"
    if head.startswith(b"RF64") or head.startswith(b"BW64"):
        return "wav"
    if head.startswith(b"riff\x2e\x91\xcf\x11"):
        return "w64"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[4:8] == b"ftyp":
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"ID3"):
        return "mp3"
    if head.startswith(b".snd"):
        return "au"
    if head.startswith(b"caff"):
        return "caf"
    if head.startswith(b"wvpk"):
        return "wv"
    if head.startswith(b"MAC "):
        return "ape"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:
        return "aac"  # ADTS
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "mp3"  # MPEG audio frame sync
    return None


def _describe_non_audio(head: bytes) -> str:
    lowered = head[:512].lstrip().lower()
    if any(lowered.startswith(sign.lower()) for sign in _TEXT_SIGNS):
        return "a playlist, concat list or web page, not audio"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive, not audio"
    if head.startswith(b"\x7fELF"):
        return "a program (ELF), not audio"
    if head.startswith(b"%PDF"):
        return "a PDF document, not audio"
    if not head:
        return "empty"
    return "not an audio file"


def probe(path: Path, settings: Settings | None = None) -> AudioInfo:
    """Identify `path` as audio or raise BadInputError(code="unsupported_media"/"bad_input")."""
    settings = settings or get_settings()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BadInputError(f"cannot read file ({exc.strerror})", code="not_found") from exc
    if size == 0:
        raise BadInputError("empty file", code="empty")
    if size > settings.max_file_bytes:
        raise BadInputError(
            f"file is {size / 1e6:.0f} MB, over the {settings.max_file_bytes / 1e6:.0f} MB limit",
            code="too_large",
        )
    with open(path, "rb") as f:
        head = f.read(4096)
    demuxer = sniff(head)
    if demuxer is None:
        raise BadInputError(_describe_non_audio(head), code="unsupported_media")
    path = path.resolve()
    cmd = [
        tool("ffprobe"),
        "-v",
        "error",
        *PROTOCOL_ARGS,
        "-f",
        demuxer,
        "-show_format",
        "-show_streams",
        "-select_streams",
        "a",
        "-of",
        "json",
        f"file:{path}",
    ]
    try:
        result = sandbox.run(cmd, settings, read=[path], timeout=settings.decode_timeout_seconds)
    except subprocess.TimeoutExpired as exc:
        raise BadInputError("probing the file took too long", code="unsupported_media") from exc
    if result.returncode < 0:
        raise BadInputError(
            f"probing the file exceeded a resource limit (signal {-result.returncode})", code="unsupported_media"
        )
    if result.returncode != 0:
        raise BadInputError(_ffmpeg_reason(result.stderr, "not a readable audio file"), code="unsupported_media")
    try:
        info = json.loads(result.stdout or b"{}")
    except ValueError:
        raise BadInputError("not a readable audio file (ffprobe gave no answer)", code="unsupported_media") from None
    streams = info.get("streams") or []
    if not streams:
        raise BadInputError("contains no audio stream", code="unsupported_media")
    stream = streams[0]
    fmt = info.get("format") or {}
    tags = {k.lower(): v for k, v in (fmt.get("tags") or {}).items()}
    tags.update({k.lower(): v for k, v in (stream.get("tags") or {}).items() if k.lower() not in tags})
    duration = fmt.get("duration") or stream.get("duration")
    return AudioInfo(
        format_name=demuxer,
        duration=float(duration) if duration not in (None, "N/A") else None,
        sample_rate=int(stream.get("sample_rate") or 0),
        channels=int(stream.get("channels") or 0),
        title=tags.get("title"),
        artist=tags.get("artist"),
    )


def _ffmpeg_reason(stderr: bytes, fallback: str) -> str:
    """The last meaningful line ffmpeg printed, stripped of its file-path prefix."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return fallback
    last = lines[-1]
    if ": " in last and last.startswith(("file:", "/", "[")):
        last = last.split(": ", 1)[1]
    return f"{fallback} ({last[:200]})"
