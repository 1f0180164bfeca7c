"""A song's mix statistics, kept by its content hash once a decode has measured them.

Demucs normalises every window by the mean and std of the whole mono mixture, so without them
a separation must decode the whole song before its first chunk. A worker keeps them beside the
stem store (`put_song_sidecar`) after a job's decode; a later job of the same song on a worker
whose ffmpeg is the same one reads them and streams the decode (audio/stream_decode.py). They
are tied to the decoder that made them: a worker with another ffmpeg does not use them. (Nothing
measures them at upload: that would only move the decode into the API process.)
"""

from __future__ import annotations

import functools
import json
import logging
import subprocess
from pathlib import Path
from typing import Protocol

from ..config import Settings
from ..errors import RiffRoomError
from .decode import decode_into
from .ffmpeg import tool
from .format import MixStats

log = logging.getLogger("riffroom.mix_stats")

MIX_STATS_SIDECAR = "mix-stats.json"


class SongSidecars(Protocol):
    """Where small facts about a song's content are kept (the stem store)."""

    def put_song_sidecar(self, sha256: str, name: str, data: bytes) -> None: ...

    def read_song_sidecar(self, sha256: str, name: str) -> bytes | None: ...


@functools.cache
def decoder_identity() -> str:
    """The ffmpeg build that decodes here (its version line): stats from another build may differ."""
    out = subprocess.run([tool("ffmpeg"), "-version"], capture_output=True, timeout=30, check=False)
    return out.stdout.decode(errors="replace").splitlines()[0].strip() if out.stdout else "unknown"


def measure_mix_stats(source: Path, *, settings: Settings) -> MixStats:
    """Decode `source` without keeping the samples: its MixStats, or BadInputError saying why not."""
    stats, _info = decode_into(source, lambda _samples: None, settings=settings)
    return stats


def remember_mix_stats(store: SongSidecars, sha256: str, stats: MixStats) -> None:
    record = {
        "decoder": decoder_identity(),
        "frames": stats.frames,
        "mean": stats.mean,
        "std": stats.std,
        "peak": stats.peak,
    }
    store.put_song_sidecar(sha256, MIX_STATS_SIDECAR, json.dumps(record).encode())


def remember_quietly(store: SongSidecars, sha256: str, stats: MixStats) -> None:
    """`remember_mix_stats`, for a caller that must not fail because they could not be kept."""
    try:
        remember_mix_stats(store, sha256, stats)
    except (OSError, RiffRoomError):
        log.warning("could not keep the mix stats of %s", sha256[:12], exc_info=True)


def known_mix_stats(store: SongSidecars, sha256: str) -> MixStats | None:
    """The stats kept for this content by this host's decoder; None when there are none (or unreadable)."""
    data = store.read_song_sidecar(sha256, MIX_STATS_SIDECAR)
    if data is None:
        return None
    try:
        record = json.loads(data)
        if record["decoder"] != decoder_identity():
            return None
        return MixStats(
            mean=float(record["mean"]),
            std=float(record["std"]),
            peak=float(record["peak"]),
            frames=int(record["frames"]),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("the mix stats kept for %s are unreadable; decoding in full", sha256[:12])
        return None


def measure_and_remember(store: SongSidecars, sha256: str, source: Path, settings: Settings) -> MixStats | None:
    """Measure and keep the stats of a song just uploaded, unless they are kept already.

    Never raises for a bad song: its job's own decode then fails with the reason."""
    try:
        if known_mix_stats(store, sha256) is not None:
            return None
        stats = measure_mix_stats(source, settings=settings)
        remember_mix_stats(store, sha256, stats)
        return stats
    except (RiffRoomError, OSError) as exc:
        log.info("no mix stats for %s: %s", sha256[:12], exc)
        return None
