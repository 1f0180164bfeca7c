"""Derived files (peaks here) are made once under concurrency, and their per-file locks do not pile up."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from riffroom.audio import derived


@pytest.fixture
def stem(tmp_path: Path) -> Path:
    path = tmp_path / "vocals.wav"
    sf.write(path, (0.1 * np.sin(np.arange(44100) / 10.0)).astype(np.float32), 44100)
    return path


def test_concurrent_requests_compute_once_and_leave_no_lock(
    tmp_path: Path, stem: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = derived.compute_peaks

    def counting(src: Path, points: int) -> dict[str, object]:
        calls.append(points)
        return real(src, points)

    monkeypatch.setattr(derived, "compute_peaks", counting)
    start = threading.Barrier(8)
    results: list[dict[str, object]] = []

    def ask() -> None:
        start.wait()
        results.append(derived.peaks(tmp_path / "derived", "k" * 64, "vocals", stem, 100))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r == results[0] for r in results)
    assert calls == [100]
    assert derived._locks == {}


def test_many_files_leave_no_locks_behind(tmp_path: Path, stem: Path) -> None:
    for points in range(10, 60):
        derived.peaks(tmp_path / "derived", "k" * 64, "vocals", stem, points)
    assert derived._locks == {}
