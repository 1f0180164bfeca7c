"""The chunked runner: overlap-add over windows, streamed in and out, so memory stays flat.

Chunk offsets, the triangular crossfade and the weight normalisation are exactly those of
`demucs.apply.apply_model(split=True, shifts=0)`, so our output equals demucs's own within float
rounding; unlike apply_model we never allocate a buffer the length of the song. After the chunk
at `offset` is added, samples before `offset + stride` receive no more contributions, so they are
normalised and written out at once. Windows are planned one at a time, so a source still being
decoded (audio/stream_decode.py, a new song of unknown length) is read only as far as it exists.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import CancelledError
from .engine import Engine, MixStats


class Source(Protocol):
    """What the runner reads from: a seekable float32 stereo stream (see audio.decode.DecodedAudio).

    `stats` is read only for an engine that normalises. A source still being decoded may also
    have `frames_up_to(end)` (waits; min(end, length)) and `expected_frames` (for progress)."""

    @property
    def stats(self) -> MixStats: ...

    def read(self, start: int, count: int) -> np.ndarray:
        """Frames [start, start+count) as [2, count] float32, zeros outside the song."""
        ...


@dataclass(frozen=True)
class ChunkProgress:
    done_frames: int
    total_frames: int
    elapsed: float

    @property
    def fraction(self) -> float:
        return self.done_frames / self.total_frames if self.total_frames else 1.0

    @property
    def ready_frames(self) -> int:
        """Frames of every stem that are final: the sink has had them and no later chunk touches them."""
        return self.done_frames

    @property
    def eta_seconds(self) -> float | None:
        if self.done_frames == 0:
            return None
        return self.elapsed * (self.total_frames - self.done_frames) / self.done_frames


NORM_EPS = 1e-8


def _normalized(window: np.ndarray, start: int, total: int, stats: MixStats) -> np.ndarray:
    """Scale by whole-song statistics as demucs does; padding outside the song stays exactly zero."""
    out = (window - np.float32(stats.mean)) / np.float32(stats.std + NORM_EPS)
    lo, hi = max(0, -start), min(window.shape[-1], total - start)
    out[:, :lo] = 0.0
    out[:, hi:] = 0.0
    return out


def crossfade_weight(segment: int) -> np.ndarray:
    """apply_model's triangle: 1..L/2 then down to 1, scaled to a maximum of 1."""
    weight = np.concatenate([np.arange(1, segment // 2 + 1), np.arange(segment - segment // 2, 0, -1)])
    scaled: np.ndarray = (weight / weight.max()).astype(np.float32)
    return scaled


@dataclass(frozen=True)
class _Window:
    offset: int  # where the chunk starts in the song
    frames: int  # frames of the chunk that are kept (the song may end inside it)
    delta: int  # padding the engine asked for, split around the chunk


def _frames_up_to(source: Source, end: int) -> int:
    """min(end, the song's length), waiting for a source still being decoded."""
    up_to = getattr(source, "frames_up_to", None)
    return int(up_to(end)) if up_to is not None else min(end, source.stats.frames)


def _expected_frames(source: Source) -> int:
    expected = getattr(source, "expected_frames", None)
    return int(expected) if expected is not None else source.stats.frames


def _windows(engine: Engine, source: Source, segment: int, stride: int) -> Iterator[_Window]:
    """apply_model's chunks: one every `stride` frames while the song lasts, the last one shorter."""
    offset = 0
    while (frames := _frames_up_to(source, offset + segment) - offset) > 0:
        yield _Window(offset, frames, engine.padded_length(frames) - frames)
        offset += stride


def _batched(engine: Engine, source: Source, batch: list[_Window]) -> list[np.ndarray]:
    """Run one batch of windows through the engine: one forward pass when it takes several."""
    stats = source.stats if engine.normalize_input else None
    inputs = []
    for w in batch:
        window = source.read(w.offset - w.delta // 2, w.frames + w.delta)
        if stats is not None:
            window = _normalized(window, w.offset - w.delta // 2, stats.frames, stats)
        inputs.append(window)
    many = getattr(engine, "separate_windows", None)
    outs = many(inputs, stats) if many is not None and len(inputs) > 1 else [engine.separate_window(inputs[0], stats)]
    result = []
    for w, out in zip(batch, outs, strict=True):
        if stats is not None:
            out = out * np.float32(stats.std + NORM_EPS) + np.float32(stats.mean)
        result.append(out[..., w.delta // 2 : w.delta // 2 + w.frames])  # centre trim, as demucs does
    return result


def run_chunked(
    engine: Engine,
    source: Source,
    sink: Callable[[np.ndarray], None],
    *,
    progress: Callable[[ChunkProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    cores: Callable[[], int] | None = None,
    first_alone: bool = False,
) -> None:
    """Separate `source` with `engine`, passing finished [S, 2, n] blocks to `sink` in order.

    An engine with `separate_windows` and `batch_windows` > 1 gets that many equal-length
    windows per call; offsets, crossfade and output are the same as one at a time. `cores` says
    how many cores the job may use now; an engine with `use_cores` hears it before each call.
    `first_alone`: the first window is a call of its own (an engine runs it on every core it has),
    so the song's first stretch is final soonest, for a listener waiting on it; it costs a little
    throughput. An engine with `mixed_lengths` takes windows of other lengths in one call (the
    short last one beside a whole one)."""
    segment = engine.segment_frames
    stride = int((1 - engine.overlap) * segment)
    if stride <= 0:
        raise ValueError("overlap leaves no stride")
    weight = crossfade_weight(segment)
    n_sources = len(engine.sources)
    windows = _windows(engine, source, segment, stride)
    # Planned to fill a batch but of another length: it starts the next one. The next window is
    # planned only when a batch has room for it (planning waits for a streaming decode to reach it).
    held: _Window | None = None
    alone = first_alone
    mixed = bool(getattr(engine, "mixed_lengths", False))
    use_cores = getattr(engine, "use_cores", None) if cores is not None else None
    # Accumulators cover [base, base + segment + stride): the live part of the song.
    acc = np.zeros((n_sources, 2, segment + stride), dtype=np.float32)
    acc_weight = np.zeros(segment + stride, dtype=np.float32)
    base = 0
    started = time.monotonic()
    while True:
        if cancel is not None and cancel():
            raise CancelledError("cancelled")
        first, held = held or next(windows, None), None
        if first is None:
            break
        if use_cores is not None and cores is not None:
            use_cores(cores())  # the job's share of the host's cores, asked again before each batch
        room, alone = 1 if alone else max(1, int(getattr(engine, "batch_windows", 1))), False
        batch = [first]
        padded = first.frames + first.delta
        while len(batch) < room and (nxt := next(windows, None)) is not None:
            if not mixed and nxt.frames + nxt.delta != padded:
                held = nxt
                break
            batch.append(nxt)
        for w, out in zip(batch, _batched(engine, source, batch), strict=True):
            rel = w.offset - base
            acc[..., rel : rel + w.frames] += weight[: w.frames] * out
            acc_weight[rel : rel + w.frames] += weight[: w.frames]
            # Everything before the next chunk's start is final.
            done = min(w.offset + stride, w.offset + w.frames)
            final_end = done - base
            sink(acc[..., :final_end] / acc_weight[:final_end])
            acc = np.roll(acc, -final_end, axis=-1)
            acc[..., -final_end:] = 0.0
            acc_weight = np.roll(acc_weight, -final_end)
            acc_weight[-final_end:] = 0.0
            base += final_end
            if progress is not None:
                progress(ChunkProgress(done, max(done, _expected_frames(source)), time.monotonic() - started))
