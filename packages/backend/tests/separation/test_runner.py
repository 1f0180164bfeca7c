"""The chunked runner: exact reconstruction, smooth seams, cancellation between chunks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from riffroom.errors import CancelledError
from riffroom.separation.engine import MixStats
from riffroom.separation.runner import run_chunked


class ArraySource:
    def __init__(self, data: np.ndarray) -> None:
        self.data = data.astype(np.float32)
        self.stats = MixStats(mean=0.0, std=1.0, peak=1.0, frames=data.shape[1])

    def read(self, start: int, count: int) -> np.ndarray:
        out = np.zeros((2, count), dtype=np.float32)
        lo, hi = max(start, 0), min(start + count, self.data.shape[1])
        if hi > lo:
            out[:, lo - start : hi - start] = self.data[:, lo:hi]
        return out


class ScaleEngine:
    """Stems = window x per-chunk gains: a crude engine whose chunks disagree, to expose seams."""

    name = "test"
    model = "scale"
    sources = ("a", "b")
    overlap = 0.25
    normalize_input = False

    def __init__(self, segment: int, context: int = 0, wobble: float = 0.0) -> None:
        self.segment_frames = segment
        self.context = context
        self.wobble = wobble
        self.calls = 0

    def padded_length(self, chunk_frames: int) -> int:
        return chunk_frames + 2 * self.context

    def separate_window(self, window: np.ndarray, stats: MixStats) -> np.ndarray:
        self.calls += 1
        gain = 0.3 + (self.wobble * (self.calls % 2))
        return np.stack([window * gain, window * (1 - gain)]).astype(np.float32)


def _collect(engine, source, **kw) -> np.ndarray:
    blocks: list[np.ndarray] = []
    run_chunked(engine, source, blocks.append, **kw)
    return np.concatenate(blocks, axis=-1)


@pytest.mark.parametrize("frames", [1, 999, 1000, 1001, 4321, 10_000])
@pytest.mark.parametrize("context", [0, 37])
def test_identity_reconstruction_at_any_length(frames: int, context: int) -> None:
    rng = np.random.default_rng(frames)
    data = rng.standard_normal((2, frames)).astype(np.float32)
    out = _collect(ScaleEngine(1000, context), ArraySource(data))
    assert out.shape == (2, 2, frames)
    np.testing.assert_allclose(out.sum(axis=0), data, atol=1e-5)
    np.testing.assert_allclose(out[0], 0.3 * data, atol=1e-5)


def test_no_click_at_seams_when_chunks_disagree() -> None:
    """Chunks that return different gains are crossfaded: no step larger than the signal's own."""
    n = 20_000
    data = np.ones((2, n), dtype=np.float32)  # DC: any seam shows up as a jump
    out = _collect(ScaleEngine(2000, wobble=0.4), ArraySource(data))
    steps = np.abs(np.diff(out[0, 0]))
    hard_cut = 0.4  # what concatenating chunks without a crossfade would give
    assert steps.max() < hard_cut / 50


def test_cancel_stops_before_the_next_chunk() -> None:
    engine = ScaleEngine(1000)
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    with pytest.raises(CancelledError):
        _collect(engine, ArraySource(np.ones((2, 50_000))), cancel=cancel)
    assert engine.calls == 3


def test_progress_reaches_one_with_eta() -> None:
    seen = []
    _collect(ScaleEngine(1000), ArraySource(np.ones((2, 5000))), progress=seen.append)
    assert seen[-1].fraction == 1.0
    assert all(b.fraction >= a.fraction for a, b in itertools.pairwise(seen))
    assert seen[0].eta_seconds is not None


class BatchingEngine(ScaleEngine):
    """Takes up to `batch_windows` windows per call (of any length with `mixed`); records each call's size."""

    def __init__(self, segment: int, batch: int, mixed: bool = False) -> None:
        super().__init__(segment)
        self.batch_windows = batch
        self.mixed_lengths = mixed
        self.sizes: list[int] = []

    def separate_window(self, window: np.ndarray, stats: MixStats) -> np.ndarray:
        self.sizes.append(1)
        return super().separate_window(window, stats)

    def separate_windows(self, windows: list[np.ndarray], stats: MixStats) -> list[np.ndarray]:
        self.sizes.append(len(windows))
        return [ScaleEngine.separate_window(self, w, stats) for w in windows]


# 9000 frames, segment 1000, stride 750: eleven whole windows and a short last one.
@pytest.mark.parametrize(
    ("first_alone", "mixed", "sizes"),
    [
        (False, False, [2, 2, 2, 2, 2, 1, 1]),  # the short one is not stacked beside a whole one
        (False, True, [2, 2, 2, 2, 2, 2]),  # side by side it can be
        (True, False, [1, 2, 2, 2, 2, 2, 1]),  # a listener waits: the first window alone
        (True, True, [1, 2, 2, 2, 2, 2, 1]),
    ],
)
def test_batches_of_windows_and_the_first_alone_leave_the_output_as_it_is(
    first_alone: bool, mixed: bool, sizes: list[int]
) -> None:
    """Batches, the first window alone (its stretch is the first block sunk, final soonest) or a
    short window beside a whole one: the calls change, the output does not."""
    data = np.random.default_rng(3).standard_normal((2, 9000)).astype(np.float32)
    engine = BatchingEngine(1000, batch=2, mixed=mixed)
    blocks: list[np.ndarray] = []
    run_chunked(engine, ArraySource(data), blocks.append, first_alone=first_alone)
    assert engine.sizes == sizes
    assert blocks[0].shape[-1] == 750
    np.testing.assert_array_equal(np.concatenate(blocks, axis=-1), _collect(ScaleEngine(1000), ArraySource(data)))
