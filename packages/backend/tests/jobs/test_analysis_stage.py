"""The job's analysis stage on a real stem store, real ffmpeg and real WAVs: it analyses an entry
once, stores a failure as a result instead of raising, and honours a cancel."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from riffroom.analysis import ANALYSIS_VERSION
from riffroom.config import Settings
from riffroom.errors import CancelledError
from riffroom.jobs.analysis_stage import ANALYSIS_SIDECAR, ensure_analysis, read_analysis
from riffroom.storage.stems import StemCache

from tests.analysis.songs import SR, make_song

KEY = "a" * 64


@pytest.fixture
def entry(tmp_path: Path) -> tuple[StemCache, Path]:
    """A published entry with drums, bass and piano stems, and the song they came from."""
    song = make_song(100.0, 4, ["D:min", "G:maj"], 8, seed=5)
    cache = StemCache(tmp_path / "cache", 10**9)
    staging = cache.new_staging_dir()
    for name in ("drums", "bass", "piano"):
        sf.write(staging / f"{name}.wav", song.stems[name].T, SR, subtype="FLOAT")
    cache.publish(KEY, staging, {"stems": ["drums", "bass", "piano"], "duration": song.mixture.shape[1] / SR})
    source = tmp_path / "song.wav"
    sf.write(source, song.mixture.T, SR, subtype="PCM_16")
    return cache, source


def _run(cache: StemCache, source: Path, settings: Settings, cancel: bool = False) -> tuple[bool, list[float]]:
    seen: list[float] = []
    ran = ensure_analysis(cache, KEY, source, settings=settings, cancel=lambda: cancel, progress=seen.append)
    return ran, seen


def test_an_entry_is_analysed_once(entry: tuple[StemCache, Path], settings: Settings) -> None:
    cache, source = entry
    ran, seen = _run(cache, source, settings)
    assert ran and seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    found = read_analysis(cache, KEY)
    assert found is not None and found["version"] == ANALYSIS_VERSION and found["steady_beat"] is True
    assert found["bpm"] == pytest.approx(100.0, rel=0.04)
    assert _run(cache, source, settings) == (False, [])  # already there: not analysed again


def test_an_analysis_that_fails_is_stored_as_failed_not_raised(
    entry: tuple[StemCache, Path], settings: Settings, tmp_path: Path
) -> None:
    cache, _ = entry
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3" + b"\x00" * 64 + b"not audio at all" * 100)
    ran, _ = _run(cache, broken, settings)
    assert ran
    found = read_analysis(cache, KEY)
    assert found is not None and found["message"].startswith("the analysis failed: ")
    assert found["steady_beat"] is False and found["beats"] == [] and found["chords"] == [] and found["bpm"] is None
    assert _run(cache, broken, settings)[0] is False  # kept: not retried on every request


def test_a_cancel_before_the_analysis_stores_nothing(entry: tuple[StemCache, Path], settings: Settings) -> None:
    cache, source = entry
    with pytest.raises(CancelledError):
        _run(cache, source, settings, cancel=True)
    assert cache.read_sidecar(KEY, ANALYSIS_SIDECAR) is None
