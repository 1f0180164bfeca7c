"""A range of a stem (`start`/`end` in seconds), sample-accurate, while its job runs and after.

Published stems are read from the stem store's entry; a running job's from its partial data
(the stretches the runner has finalised), on this host or, scaled out, in the blob store. The
two give the same samples, so a player can switch from one to the other without a seam.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from riffroom.api.context import ServerContext
from riffroom.api.errors import ApiError
from riffroom.audio.format import SAMPLE_RATE
from riffroom.storage.models import Job, JobState
from riffroom.storage.segments import NotReadyError, read_wav_range, wav_frames

END_SLACK_SECONDS = 0.05  # an `end` this little past the last sample (a rounded duration) is clamped
_SUBTYPES = {"flac": ("FLAC", "PCM_24")}


@dataclass(frozen=True)
class FrameRange:
    start: int
    end: int


@dataclass(frozen=True)
class StemRange:
    samples: np.ndarray  # [2, n] float32
    ready_seconds: float
    from_running_job: bool
    key: str | None = None  # the published entry it came from


def check_seconds(start: float | None, end: float | None) -> None:
    """What can be told without knowing the song's length: 422 for a range that can never be served."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ApiError(422, "invalid_request", f"{name} must be a number of seconds, 0 or more")
    if start is not None and end is not None and end <= start:
        raise ApiError(422, "invalid_request", "end must be after start")


def frame_range(start: float | None, end: float | None, total_frames: int) -> FrameRange:
    """Seconds -> frames: floor(start * 44100) .. floor(end * 44100), within a song of `total_frames`."""
    total_seconds = total_frames / SAMPLE_RATE
    first = math.floor((start or 0.0) * SAMPLE_RATE)
    last = total_frames if end is None else math.floor(end * SAMPLE_RATE)
    if end is not None and end > total_seconds + END_SLACK_SECONDS:
        raise ApiError(422, "invalid_request", f"end is past the end of the song ({total_seconds:.3f} s)")
    last = min(last, total_frames)
    if first >= last:
        raise ApiError(422, "invalid_request", f"the range holds no samples of the song ({total_seconds:.3f} s long)")
    return FrameRange(first, last)


def from_published(key: str, path_frames: int, stem_path: Path, start: float | None, end: float | None) -> StemRange:
    frames = frame_range(start, end, path_frames)
    samples = read_wav_range(stem_path, frames.start, frames.end)
    return StemRange(samples, path_frames / SAMPLE_RATE, False, key)


def from_job(
    ctx: ServerContext, job: Job, stem: str, start: float | None, end: float | None, song_duration: float
) -> StemRange | None:
    """The range from `job`'s partial data. None when the job has none (any more): it may just have
    finished, so the caller looks for published stems again. 409 `not_ready` past the frontier."""
    if job.state == JobState.queued.value:
        if end is not None and end > song_duration + END_SLACK_SECONDS:
            raise ApiError(422, "invalid_request", f"end is past the end of the song ({song_duration:.3f} s)")
        raise _not_ready(job, 0.0)
    partial = ctx.cache.partial(job.id)
    frontier = partial.frontier()
    if frontier is None:
        return None
    wanted = job.stems or list(frontier.stems)
    if stem not in frontier.stems or stem not in wanted:
        raise ApiError(404, "not_found", f"this separation has no {stem} stem; it has {', '.join(wanted)}")
    if frontier.published is not None:
        entry = ctx.cache.lookup(frontier.published, pin_seconds=60.0)
        if entry is None:
            return None
        path = entry.stems[stem]
        return from_published(entry.key, wav_frames(path), path, start, end)
    frames = frame_range(start, end, frontier.total_frames)
    try:
        samples = partial.read(frontier, stem, frames.start, frames.end)
    except NotReadyError as exc:
        raise _not_ready(job, exc.ready_frames / SAMPLE_RATE) from None
    return StemRange(samples, frontier.ready_seconds, True)


def _not_ready(job: Job, ready_seconds: float) -> ApiError:
    return ApiError(
        409,
        "not_ready",
        f"only the first {ready_seconds:.3f} s of the stems are separated so far",
        job_id=job.id,
        ready_seconds=round(ready_seconds, 6),
    )


def encode(samples: np.ndarray, fmt: str) -> bytes:
    """The samples as a whole file: float WAV (the exact samples) or 24-bit FLAC; the same samples
    always give the same bytes (libsndfile's float WAV would add a PEAK chunk with a timestamp)."""
    if fmt == "wav":
        return _float_wav(samples)
    container, subtype = _SUBTYPES[fmt]
    buf = io.BytesIO()
    sf.write(buf, samples.T, SAMPLE_RATE, format=container, subtype=subtype)
    return buf.getvalue()


def _float_wav(samples: np.ndarray) -> bytes:
    """A plain IEEE-float WAV (format 3): RIFF header, `fmt `, `fact`, then the interleaved samples."""
    channels, frames = samples.shape
    data = np.ascontiguousarray(samples.T, dtype="<f4").tobytes()
    block = 4 * channels
    fmt_chunk = struct.pack("<HHIIHHH", 3, channels, SAMPLE_RATE, SAMPLE_RATE * block, block, 32, 0)
    chunks = [
        b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk,
        b"fact" + struct.pack("<II", 4, frames),
        b"data" + struct.pack("<I", len(data)),
    ]
    header = b"".join(chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(header) + len(data)) + b"WAVE" + header + data
