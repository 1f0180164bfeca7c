"""Decoding any audio ffmpeg understands into float32 stereo 44.1 kHz, in bounded memory.

ffmpeg writes raw samples to a pipe; we count them as they arrive (the duration cap is enforced
on decoded samples, never on header claims), gather the mix statistics demucs needs, and spool
them to a temporary raw file that the chunked runner reads window by window. `decode_into` is
the one decoding loop; audio/stream_decode.py runs it while the runner already reads.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ..config import Settings, get_settings
from ..errors import BadInputError, CancelledError, CapExceededError
from . import sandbox
from .ffmpeg import PROTOCOL_ARGS, tool
from .format import CHANNELS, SAMPLE_RATE, MixStats
from .integrity import check_wav_complete
from .probe import AudioInfo, _ffmpeg_reason, probe, sniff

_FRAME_BYTES = CHANNELS * 4
_READ_FRAMES = 65536
_PIPE_BYTES = 1 << 20  # the Linux default pipe-max-size
SILENCE_PEAK = 1e-4  # below -80 dBFS everywhere: nothing to separate


@dataclass
class DecodedAudio:
    """A spooled decode: raw interleaved float32 stereo frames in `path`, plus their statistics."""

    path: Path
    stats: MixStats
    info: AudioInfo
    owned_dir: Path | None = None  # a private folder holding only the spool: removed with it

    @property
    def frames(self) -> int:
        return self.stats.frames

    @property
    def duration(self) -> float:
        return self.stats.frames / SAMPLE_RATE

    def read(self, start: int, count: int) -> np.ndarray:
        """Frames [start, start+count) as [2, n] float32, zero outside the song."""
        return read_spool(self.path, start, count, self.stats.frames)

    def close(self) -> None:
        self.path.unlink(missing_ok=True)
        if self.owned_dir is not None:
            shutil.rmtree(self.owned_dir, ignore_errors=True)

    def __enter__(self) -> DecodedAudio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_decodes_started = 0
_decodes_lock = threading.Lock()


def decodes_started() -> int:
    """How many ffmpeg decodes this process has started (lets tests see a song is decoded once)."""
    return _decodes_started


class _MixAccumulator:
    """Gathers MixStats block by block, in one fixed order, so equal decodes give equal stats."""

    def __init__(self) -> None:
        self.frames = 0
        self.mono_sum = self.mono_sq = self.peak = 0.0

    def add(self, samples: np.ndarray) -> None:
        self.frames += samples.shape[0]
        # The same values as samples.mean(axis=1, dtype=float64) and np.abs(samples).max(), bit for
        # bit (a mean of two is (a + b) / 2), at half the cost: no strided reduction, no |x| copy.
        wide = samples.astype(np.float64)
        mono = (wide[:, 0] + wide[:, 1]) * 0.5
        self.mono_sum += float(mono.sum())
        self.mono_sq += float(np.dot(mono, mono))
        peak = max(float(samples.max(initial=0.0)), -float(samples.min(initial=0.0)))
        self.peak = max(self.peak, peak)

    def stats(self) -> MixStats:
        mean = self.mono_sum / self.frames
        # Unbiased, like torch's Tensor.std(), which demucs normalises by.
        variance = (self.mono_sq - self.frames * mean * mean) / max(self.frames - 1, 1)
        return MixStats(mean=mean, std=float(np.sqrt(max(variance, 0.0))), peak=self.peak, frames=self.frames)


def read_spool(path: Path, start: int, count: int, frames: int) -> np.ndarray:
    """Frames [start, start+count) of a raw f32 stereo spool holding `frames`, as [2, n], zero outside."""
    out = np.zeros((CHANNELS, count), dtype=np.float32)
    lo, hi = max(start, 0), min(start + count, frames)
    if hi > lo:
        with open(path, "rb") as f:
            f.seek(lo * _FRAME_BYTES)
            data = np.fromfile(f, dtype=np.float32, count=(hi - lo) * CHANNELS)
        out[:, lo - start : hi - start] = data.reshape(-1, CHANNELS).T
    return out


def decode(
    source: Path,
    *,
    settings: Settings | None = None,
    spool_dir: Path | None = None,
    cancel: Callable[[], bool] | None = None,
    on_progress: Callable[[float], None] | None = None,
    info: AudioInfo | None = None,
) -> DecodedAudio:
    """Decode `source` to a spooled DecodedAudio, or raise BadInputError saying why not."""
    fd, spool_name = tempfile.mkstemp(prefix="riffroom-decode-", suffix=".f32", dir=spool_dir)
    spool = Path(spool_name)
    ok = False
    try:
        with os.fdopen(fd, "wb") as out:
            stats, info = decode_into(
                source,
                lambda samples: out.write(samples.tobytes()),
                settings=settings,
                cancel=cancel,
                on_progress=on_progress,
                info=info,
            )
        ok = True
        return DecodedAudio(spool, stats, info)
    finally:
        if not ok:
            spool.unlink(missing_ok=True)


def decode_into(
    source: Path,
    write: Callable[[np.ndarray], object],
    *,
    settings: Settings | None = None,
    cancel: Callable[[], bool] | None = None,
    on_progress: Callable[[float], None] | None = None,
    info: AudioInfo | None = None,
) -> tuple[MixStats, AudioInfo]:
    """Decode `source`, handing each block of [n, 2] float32 frames to `write` as it arrives.

    `info`: what probing this very file said before (a song's row keeps it from its upload), so
    it is not asked of ffprobe again. The checks (cap, timeout, cancel, truncation, silence) are
    those of `decode`; on an error the blocks already written are the caller's to throw away."""
    global _decodes_started
    settings = settings or get_settings()
    source = source.resolve()
    if info is None or not _sniffs_as(source, info.format_name):
        info = probe(source, settings)
    if info.format_name == "wav":
        check_wav_complete(source)
    max_frames = int(settings.max_duration_seconds * SAMPLE_RATE)
    cmd = [
        tool("ffmpeg"),
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        *PROTOCOL_ARGS,
        "-f",
        info.format_name,
        "-i",
        f"file:{source}",
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        # One second past the cap is enough to know the cap was exceeded.
        "-t",
        f"{settings.max_duration_seconds + 1:.3f}",
        "-ac",
        str(CHANNELS),
        "-ar",
        str(SAMPLE_RATE),
        "-f",
        "f32le",
        "-acodec",
        "pcm_f32le",
        "pipe:1",
    ]
    with _decodes_lock:
        _decodes_started += 1
    proc = sandbox.popen(cmd, settings, read=[source], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _widen_pipe(proc.stdout)
    # A decoder that stops producing output would block the read below: the watchdog kills it.
    watchdog = threading.Timer(settings.decode_timeout_seconds, sandbox.kill, args=(proc,))
    watchdog.daemon = True
    watchdog.start()
    stderr_chunks: list[bytes] = []
    stderr_thread = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    stderr_thread.start()
    deadline = time.monotonic() + settings.decode_timeout_seconds
    mix = _MixAccumulator()
    leftover = b""
    try:
        assert proc.stdout is not None
        while True:
            block = proc.stdout.read(_READ_FRAMES * _FRAME_BYTES)
            if not block:
                break
            if time.monotonic() > deadline:
                raise BadInputError(f"decoding took longer than {settings.decode_timeout_seconds:.0f} s")
            if cancel is not None and cancel():
                raise CancelledError("cancelled while decoding")
            block = leftover + block
            usable = len(block) - len(block) % _FRAME_BYTES
            block, leftover = block[:usable], block[usable:]
            samples = np.frombuffer(block, dtype=np.float32).reshape(-1, CHANNELS)
            if not np.isfinite(samples).all():
                samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
            if mix.frames + samples.shape[0] > max_frames:
                raise CapExceededError(f"longer than the {settings.max_duration_seconds / 60:.0f} minute limit")
            mix.add(samples)
            write(samples)
            if on_progress is not None and info.duration:
                on_progress(min(1.0, mix.frames / (info.duration * SAMPLE_RATE)))
        returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        stderr_thread.join(timeout=5)
        if time.monotonic() > deadline:
            raise BadInputError(f"decoding took longer than {settings.decode_timeout_seconds:.0f} s")
        if returncode < 0 and mix.frames == 0:
            raise BadInputError(f"decoding exceeded a resource limit (signal {-returncode})")
        _judge(returncode, b"".join(stderr_chunks), mix.frames, mix.peak, info)
        return mix.stats(), info
    except subprocess.TimeoutExpired as exc:
        raise BadInputError(f"decoding took longer than {settings.decode_timeout_seconds:.0f} s") from exc
    finally:
        watchdog.cancel()
        sandbox.kill(proc)
        if proc.stdout is not None:
            proc.stdout.close()


def _sniffs_as(source: Path, format_name: str) -> bool:
    """Whether `source` still shows the container `format_name` names (a probe from before is for it)."""
    try:
        with open(source, "rb") as f:
            return sniff(f.read(4096)) == format_name
    except OSError:
        return False


def _widen_pipe(stream: IO[bytes] | None) -> None:
    """Let ffmpeg run ahead while a block is being counted and written: with the default 64 KB
    pipe it waits for every read, and decode and bookkeeping take turns instead of overlapping."""
    if stream is None:
        return
    try:
        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (AttributeError, OSError):  # not Linux, or over /proc/sys/fs/pipe-max-size: the default
        pass


def _judge(returncode: int, stderr: bytes, frames: int, peak: float, info: AudioInfo) -> None:
    """Turn what ffmpeg did into one clear reason, or accept the decode."""
    if returncode != 0 and frames == 0:
        raise BadInputError(_ffmpeg_reason(stderr, "cannot decode the audio"))
    if frames == 0:
        raise BadInputError("contains no audio samples", code="empty")
    decoded = frames / SAMPLE_RATE
    if returncode != 0:
        raise BadInputError(f"truncated or corrupt: decoding stopped after {decoded:.1f} s", code="truncated")
    # A header that promises much more than the data holds means the file was cut short.
    if info.duration and decoded < info.duration * 0.95 - 0.5:
        raise BadInputError(
            f"truncated: the file claims {info.duration:.1f} s but holds {decoded:.1f} s", code="truncated"
        )
    if peak < SILENCE_PEAK:
        raise BadInputError("is silent: there is nothing to separate", code="silent")
