"""A running separation's finished stretches, kept as segments so players can read them early.

Part of the stem store (storage/stems.py hands these out with `StemCache.partial(run_id)`), and
the only code that knows this layout. Under the cache dir, `partial/<run_id>/` holds
`<stem>/<n>.f32` (raw float32, interleaved stereo, `segment_frames` frames each; the last one of
a running job grows, each version replacing the last by rename) and `frontier.json` (how many
frames of every stem are final), which is written only after the segments it counts are
fsynced. With a remote blob store every segment, then the frontier, is also uploaded under
`partial/<run_id>/`, so an API node on another host can serve a range. When the stems are
published the frontier points at their entry instead; when the job ends the whole run goes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from riffroom.audio.format import CHANNELS, SAMPLE_RATE
from riffroom.storage.blobs import BlobStore

log = logging.getLogger("riffroom.segments")

_FRONTIER = "frontier.json"
_RUN_ID = re.compile(r"^[0-9a-f]{8,64}$")
_STEM = re.compile(r"^[a-z0-9_]+$")


class NotReadyError(Exception):
    """The range asked for goes past what is final; `ready_frames` says how far it is."""

    def __init__(self, ready_frames: int) -> None:
        super().__init__(f"only {ready_frames} frames are ready")
        self.ready_frames = ready_frames


@dataclass(frozen=True)
class Frontier:
    """How much of a run is readable. `published` is the cache key once the stems are published."""

    frames: int
    total_frames: int
    segment_frames: int
    stems: tuple[str, ...]
    published: str | None = None

    @property
    def ready_seconds(self) -> float:
        return self.frames / SAMPLE_RATE

    def to_json(self) -> str:
        return json.dumps(
            {
                "frames": self.frames,
                "total_frames": self.total_frames,
                "segment_frames": self.segment_frames,
                "stems": list(self.stems),
                "published": self.published,
            }
        )

    @staticmethod
    def from_json(text: str | bytes) -> Frontier:
        data = json.loads(text)
        return Frontier(
            int(data["frames"]),
            int(data["total_frames"]),
            int(data["segment_frames"]),
            tuple(str(s) for s in data["stems"]),
            data.get("published"),
        )


class PartialStems:
    """One run's partial data (a job id names it): write it, read ranges of it, discard it."""

    def __init__(self, root: Path, run_id: str, blobs: BlobStore | None, segment_frames: int) -> None:
        if not _RUN_ID.match(run_id):
            raise ValueError(f"invalid run id {run_id!r}: expected lowercase hex")
        if segment_frames <= 0:
            raise ValueError("segments must hold at least one frame")
        self.run_id = run_id
        self.directory = root / run_id
        self.blobs = blobs if blobs is not None and blobs.remote else None
        self.segment_frames = segment_frames

    # -- writing ---------------------------------------------------------------------------------
    def open(self, stems: tuple[str, ...] | list[str], total_frames: int) -> SegmentWriter:
        """Start this run afresh (anything an earlier attempt left is removed first)."""
        self.discard()
        return SegmentWriter(self, tuple(stems), total_frames)

    def point_to(self, key: str, stems: tuple[str, ...] | list[str], total_frames: int) -> Frontier:
        """The stems are published under `key`: ranges are read from there (all of the song is ready)."""
        frontier = Frontier(total_frames, total_frames, self.segment_frames, tuple(stems), key)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_frontier(frontier)
        return frontier

    def discard(self) -> None:
        """Remove the run's data here and in a remote blob store; no error when there is none."""
        if self.blobs is not None:
            self._discard_remote()
        if self.directory.is_dir():
            doomed = self.directory.with_name(f".gone-{self.run_id}-{uuid.uuid4().hex[:8]}")
            try:
                self.directory.rename(doomed)
            except OSError:
                return
            shutil.rmtree(doomed, ignore_errors=True)

    def _discard_remote(self) -> None:
        assert self.blobs is not None
        frontier_key = self._remote(_FRONTIER)
        try:
            with self.blobs.open(frontier_key) as fh:
                frontier = Frontier.from_json(fh.read())
        except FileNotFoundError:
            return
        except (ValueError, KeyError):
            log.warning("partial data of %s has an unreadable frontier; removing it", self.run_id)
            self.blobs.delete(frontier_key)
            return
        self.blobs.delete(frontier_key)  # first: readers stop before the segments go
        # One more than the frontier counts: a worker may have died after uploading the next one.
        for n in range(-(-frontier.total_frames // frontier.segment_frames) + 1):
            for stem in frontier.stems:
                self.blobs.delete(self._remote(_segment_name(stem, n)))

    def _write_file(self, name: str, data: bytes) -> None:
        """Write `name` under the run's directory: temporary name, fsync, rename; then upload."""
        target = self.directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        with open(part, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        part.rename(target)
        if self.blobs is not None:
            self.blobs.upload(self._remote(name), target)

    def _write_frontier(self, frontier: Frontier) -> None:
        self._write_file(_FRONTIER, frontier.to_json().encode())

    def _remote(self, name: str) -> str:
        return f"partial/{self.run_id}/{name}"

    # -- reading ---------------------------------------------------------------------------------
    def frontier(self) -> Frontier | None:
        """How much is ready, from this host's files or else the blob store; None when nothing is."""
        try:
            return Frontier.from_json((self.directory / _FRONTIER).read_bytes())
        except FileNotFoundError:
            pass
        if self.blobs is None:
            return None
        try:
            with self.blobs.open(self._remote(_FRONTIER)) as fh:
                return Frontier.from_json(fh.read())
        except FileNotFoundError:
            return None

    def read(self, frontier: Frontier, stem: str, start: int, end: int) -> np.ndarray:
        """Frames [start, end) of `stem` as [2, n] float32, exactly as the separation wrote them.

        NotReadyError when `end` is past the frontier; the frontier must not point at published stems."""
        if frontier.published is not None:
            raise ValueError("the stems are published: read them from the stem store")
        if stem not in frontier.stems:
            raise KeyError(stem)
        if not 0 <= start < end:
            raise ValueError(f"bad range [{start}, {end})")
        if end > frontier.frames:
            raise NotReadyError(frontier.frames)
        seg = frontier.segment_frames
        parts = []
        for n in range(start // seg, (end - 1) // seg + 1):
            data = self._segment(stem, n)
            lo, hi = max(start - n * seg, 0), min(end - n * seg, seg)
            if data.shape[0] < hi:  # a segment shorter than the frontier says: it was not ours to read
                raise NotReadyError(n * seg + data.shape[0])
            parts.append(data[lo:hi])
        return np.ascontiguousarray(np.concatenate(parts).T)

    def _segment(self, stem: str, n: int) -> np.ndarray:
        name = _segment_name(stem, n)
        try:
            raw = (self.directory / name).read_bytes()
        except FileNotFoundError:
            if self.blobs is None:
                raise NotReadyError(n * self.segment_frames) from None
            try:
                with self.blobs.open(self._remote(name)) as fh:
                    raw = fh.read()
            except FileNotFoundError:
                raise NotReadyError(n * self.segment_frames) from None
        return np.frombuffer(raw, dtype="<f4").reshape(-1, CHANNELS)


class SegmentWriter:
    """Appends finished [S, 2, n] blocks of a run; after each, the frontier counts every frame given."""

    def __init__(self, partial: PartialStems, stems: tuple[str, ...], total_frames: int) -> None:
        for stem in stems:
            if not _STEM.match(stem):
                raise ValueError(f"invalid stem name {stem!r}")
        self.partial = partial
        self.stems = stems
        self.total_frames = total_frames
        self.frames = 0
        self._segment = 0  # the index of the segment being filled
        self._tail = np.zeros((len(stems), 0, CHANNELS), dtype="<f4")  # its frames so far, interleaved
        partial._write_frontier(self._frontier())

    def _frontier(self) -> Frontier:
        return Frontier(self.frames, self.total_frames, self.partial.segment_frames, self.stems)

    def write(self, block: np.ndarray, total_frames: int = 0) -> None:
        """Keep `block` ([stems, 2, n] float32, following the last one); fsynced before it is counted.

        `total_frames`: the song's length as now known (a new song's estimate firms up as it decodes)."""
        if block.shape[0] != len(self.stems) or block.shape[1] != CHANNELS:
            raise ValueError(f"expected [{len(self.stems)}, {CHANNELS}, n] blocks, got {list(block.shape)}")
        if block.shape[-1] == 0:
            return
        seg = self.partial.segment_frames
        self._tail = np.concatenate([self._tail, np.transpose(block, (0, 2, 1)).astype("<f4")], axis=1)
        while self._tail.shape[1] >= seg:
            self._put_segment(self._tail[:, :seg])
            self._tail = self._tail[:, seg:]
            self._segment += 1
        if self._tail.shape[1]:
            self._put_segment(self._tail)  # the growing last segment, replaced on the next write
        self.frames += block.shape[-1]
        self.total_frames = max(self.total_frames, total_frames, self.frames)
        self.partial._write_frontier(self._frontier())

    def end(self) -> None:
        """Every block is written: the song's length is what was written (an estimate may have been off)."""
        if self.total_frames != self.frames:
            self.total_frames = self.frames
            self.partial._write_frontier(self._frontier())

    def _put_segment(self, frames: np.ndarray) -> None:
        for stem, data in zip(self.stems, frames, strict=True):
            self.partial._write_file(_segment_name(stem, self._segment), np.ascontiguousarray(data).tobytes())


def _segment_name(stem: str, n: int) -> str:
    return f"{stem}/{n:06d}.f32"


def read_wav_range(path: Path, start: int, end: int) -> np.ndarray:
    """Frames [start, end) of a published float WAV stem as [2, n] float32."""
    import soundfile as sf

    with sf.SoundFile(path) as f:
        f.seek(start)
        data = f.read(end - start, dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T)


def wav_frames(path: Path) -> int:
    import soundfile as sf

    return int(sf.info(str(path)).frames)


def sweep(root: Path, keep: set[str], min_age_seconds: float = 0.0) -> list[str]:
    """Remove this host's partial data of every run not in `keep` (e.g. left by a killed worker)
    and untouched for `min_age_seconds` (a run that has just started is not yet in `keep`)."""
    removed: list[str] = []
    if not root.is_dir():
        return removed
    cutoff = time.time() - min_age_seconds
    for item in root.iterdir():
        try:
            if item.name in keep or item.stat().st_mtime > cutoff:
                continue
        except FileNotFoundError:
            continue
        shutil.rmtree(item, ignore_errors=True)
        if not item.name.startswith("."):
            removed.append(item.name)
    return removed
