"""The streaming decode: the first chunk starts while ffmpeg still decodes (a new song with dsp,
or any engine given the song's mix stats), and the stems are bit for bit those of the full-decode
path; bad input fails the same way and leaves nothing behind; other stats than this host's
decode never reach published stems."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from riffroom.audio.decode import decode
from riffroom.audio.mix_stats import measure_mix_stats
from riffroom.config import Settings
from riffroom.errors import BadInputError, CancelledError
from riffroom.separation import api
from riffroom.separation.api import StemSet, separate
from riffroom.separation.engines import choose, get_engine
from riffroom.separation.runner import run_chunked

from tests.fixtures.songs import encode, synth_song, write_wav


def _settings(tmp: Path, name: str, **kw: Any) -> Settings:
    return Settings(data_dir=tmp / "data", cache_dir=tmp / name, model_dir=None, **kw)


def _samples(result: StemSet) -> dict[str, bytes]:
    out = {}
    for name, path in result.stems.items():
        data, rate = sf.read(path, dtype="float32", always_2d=True)
        assert rate == 44100
        out[name] = data.tobytes()
    return out


def _full_decode_dsp(song: Path, settings: Settings) -> tuple[dict[str, bytes], float]:
    """The reference: the whole song decoded first, then separated, as before streaming existed."""
    choice = choose("dsp", None, None)
    engine = get_engine(choice, model_dir=None, device="cpu", dsp_chunk_seconds=settings.dsp_chunk_seconds)
    audio = decode(song, settings=settings)
    blocks: list[np.ndarray] = []
    try:
        run_chunked(engine, audio, blocks.append)
        duration = audio.duration
    finally:
        audio.close()
    stems = np.concatenate(blocks, axis=-1)
    return {name: np.ascontiguousarray(stems[i].T).tobytes() for i, name in enumerate(choice.stems)}, duration


def _leftovers(settings: Settings) -> list[Path]:
    """Anything a separation left in the cache's staging area or published (a failed run: nothing)."""
    root = settings.resolved_cache_dir
    return [p for folder in ("tmp", "objects") if (root / folder).is_dir() for p in (root / folder).iterdir()]


@pytest.fixture(scope="module")
def songs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stream-songs")
    wav = write_wav(folder / "song.wav", synth_song(14.0, seed=7).mixture)
    return {"wav": wav, "mp3": encode(wav, folder / "song.mp3", "mp3")}


@pytest.mark.parametrize("known", [True, False], ids=["stats-known", "new-song"])
@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_streamed_stems_equal_the_full_decode_bit_for_bit_dsp(
    fmt: str, known: bool, songs: dict[str, Path], tmp_path: Path
) -> None:
    song = songs[fmt]
    reference, duration = _full_decode_dsp(song, _settings(tmp_path, "full"))
    stats = measure_mix_stats(song, settings=_settings(tmp_path, "x")) if known else None
    streamed = separate(song, engine="dsp", settings=_settings(tmp_path, "stream"), mix_stats=stats)
    assert not streamed.cached
    assert _samples(streamed) == reference
    assert streamed.duration == duration


def test_streamed_stems_equal_the_full_decode_bit_for_bit_demucs(songs: dict[str, Path], tmp_path: Path) -> None:
    song = songs["wav"]
    kw: dict[str, Any] = {"engine": "demucs", "model": "demucs_unittest"}
    full = separate(song, settings=_settings(tmp_path, "full"), **kw)
    stats = measure_mix_stats(song, settings=_settings(tmp_path, "x"))
    streamed = separate(song, settings=_settings(tmp_path, "stream"), mix_stats=stats, **kw)
    assert streamed.cache_key == full.cache_key
    assert _samples(streamed) == _samples(full)


def test_stats_another_decoder_made_are_never_published(
    songs: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The stored mean is off in its last digits: the song is separated again from this host's
    own decode (no second ffmpeg run), and the stems are those of the full-decode path."""
    song = songs["wav"]
    kw: dict[str, Any] = {"engine": "demucs", "model": "demucs_unittest"}
    full = separate(song, settings=_settings(tmp_path, "full"), **kw)
    true = measure_mix_stats(song, settings=_settings(tmp_path, "x"))
    wrong = dataclasses.replace(true, mean=true.mean + 1e-4, std=true.std * 1.01)
    with caplog.at_level(logging.WARNING, logger="riffroom.separation"):
        streamed = separate(song, settings=_settings(tmp_path, "stream"), mix_stats=wrong, keep_decoded=True, **kw)
    try:
        assert _samples(streamed) == _samples(full)
        assert streamed.decoded is not None and streamed.decoded.stats == true
        assert "separating again" in caplog.text
    finally:
        streamed.close_decoded()


def test_bad_input_fails_with_the_same_code_and_leaves_nothing(songs: dict[str, Path], tmp_path: Path) -> None:
    whole = songs["wav"].read_bytes()
    stats = measure_mix_stats(songs["wav"], settings=_settings(tmp_path, "x"))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole[: len(whole) // 2])  # stats of the whole file, half the file
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(whole[:44] + bytes(range(256)) * 40)
    cases = [
        (cut, {}, "truncated"),
        (corrupt, {}, None),
        (songs["wav"], {"max_duration_seconds": 5.0}, "too_large"),
    ]
    # demucs with no stats decodes the whole song first; dsp streams, with stats or without.
    paths: list[tuple[str, dict[str, Any], Any]] = [
        ("full", {"engine": "demucs", "model": "demucs_unittest"}, None),
        ("stream-known", {"engine": "dsp"}, stats),
        ("stream-new", {"engine": "dsp"}, None),
    ]
    for path, extra, code in cases:
        codes = []
        for name, kw, known in paths:
            settings = _settings(tmp_path, f"{name}-{path.stem}-{len(extra)}", **extra)
            with pytest.raises(BadInputError) as failure:
                separate(path, settings=settings, mix_stats=known, **kw)
            codes.append(failure.value.code)
            assert _leftovers(settings) == [], f"{path.name} {name}: {_leftovers(settings)}"
        assert len(set(codes)) == 1, (path.name, codes)
        if code is not None:
            assert codes[0] == code


@pytest.mark.parametrize("known", [True, False], ids=["stats-known", "new-song"])
def test_cancel_while_the_decode_streams_stops_it_and_leaves_nothing(
    known: bool, songs: dict[str, Path], tmp_path: Path
) -> None:
    song = songs["mp3"]
    stats = measure_mix_stats(song, settings=_settings(tmp_path, "x")) if known else None
    settings = _settings(tmp_path, "cancelled")
    asked = threading.Event()
    calls = 0

    def cancel() -> bool:
        nonlocal calls
        calls += 1
        if calls == 3:  # a few blocks into the decode, before the song is through
            asked.set()
        return asked.is_set()

    with pytest.raises(CancelledError):
        separate(song, engine="dsp", settings=settings, mix_stats=stats, cancel=cancel)
    assert _leftovers(settings) == []
    assert not [t for t in threading.enumerate() if t.name == "stream-decode"], "the decode thread stopped"


class _FirstWindow:
    """Wraps an engine: when its first window starts, and how far the spool was written by then."""

    def __init__(self, engine: Any, spool_dir: Path) -> None:
        self._engine, self._spool_dir = engine, spool_dir
        self.started_at: float | None = None
        self.spool_bytes = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._engine, name)
        if name not in ("separate_window", "separate_windows"):
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.started_at is None:
                self.started_at = time.monotonic()
                self.spool_bytes = sum(p.stat().st_size for p in self._spool_dir.rglob("riffroom-decode-*.f32"))
            return attr(*args, **kwargs)

        return timed


@pytest.mark.parametrize("known", [True, False], ids=["stats-known", "new-song"])
def test_the_first_chunk_of_a_four_minute_song_starts_while_it_decodes(
    known: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = synth_song(30.0, seed=11).mixture
    song = tmp_path / "four-minutes.wav"
    with sf.SoundFile(song, "w", 44100, 2, subtype="PCM_16") as f:
        for _ in range(8):
            f.write(block)
    stats = measure_mix_stats(song, settings=_settings(tmp_path, "x"))
    settings = _settings(tmp_path, "stream")
    wrapped: list[_FirstWindow] = []
    real = api.get_engine

    def get_engine(*args: Any, **kwargs: Any) -> Any:
        wrapped.append(_FirstWindow(real(*args, **kwargs), settings.resolved_cache_dir / "tmp"))
        return wrapped[-1]

    real(api.choose("dsp", None, None), model_dir=None, device="cpu", dsp_chunk_seconds=settings.dsp_chunk_seconds)
    monkeypatch.setattr(api, "get_engine", get_engine)
    started = time.monotonic()
    with pytest.raises(CancelledError):
        separate(
            song,
            engine="dsp",
            settings=settings,
            mix_stats=stats if known else None,
            cancel=lambda: bool(wrapped[-1:] and wrapped[-1].started_at),
        )
    first = wrapped[-1]
    assert first.started_at is not None
    assert first.started_at - started < 5.0, "a regression to decoding the whole song first"
    assert first.spool_bytes < stats.frames * 8, "the first window started before the decode had ended"
    assert np.isfinite(stats.mean) and stats.frames == 8 * len(block)
