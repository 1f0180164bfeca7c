"""A job decodes its song once: the analysis stage reads the separation's own decode."""

from __future__ import annotations

from pathlib import Path

from riffroom.audio import decode as decoding
from riffroom.config import Settings
from riffroom.jobs.analysis_stage import ensure_analysis, read_analysis
from riffroom.separation.api import separate
from riffroom.storage.stems import open_stem_store

from tests.fixtures.songs import synth_song, write_wav


def test_the_analysis_reuses_the_separations_decode(tmp_path: Path) -> None:
    song = write_wav(tmp_path / "song.wav", synth_song(10.0, seed=5).mixture)
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", model_dir=None)
    before = decoding.decodes_started()
    result = separate(song, engine="dsp", settings=settings, keep_decoded=True)
    try:
        assert result.decoded is not None and result.decoded.path.is_file()
        store = open_stem_store(settings)
        ran = ensure_analysis(
            store,
            result.cache_key,
            song,
            settings=settings,
            cancel=lambda: False,
            progress=lambda _f: None,
            decoded=result.decoded,
        )
        assert ran
        assert decoding.decodes_started() - before == 1, "ffmpeg decoded the song once for both stages"
        analysis = read_analysis(store, result.cache_key)
        assert analysis is not None and "failed" not in str(analysis.get("message") or "")
        spool = result.decoded.path
    finally:
        result.close_decoded()
    assert not spool.exists() and not spool.parent.exists(), "the decode's folder goes once it has been read"
    assert list((settings.resolved_cache_dir / "tmp").iterdir()) == []


def test_without_a_handed_over_decode_the_analysis_decodes_itself(tmp_path: Path) -> None:
    """A cache hit has no decode to hand over: the analysis stage decodes (the one decode of that job)."""
    song = write_wav(tmp_path / "song.wav", synth_song(6.0, seed=6).mixture)
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", model_dir=None)
    first = separate(song, engine="dsp", settings=settings)
    assert first.decoded is None, "not kept unless asked"
    hit = separate(song, engine="dsp", settings=settings, keep_decoded=True)
    assert hit.cached and hit.decoded is None
    before = decoding.decodes_started()
    store = open_stem_store(settings)
    assert ensure_analysis(
        store, hit.cache_key, song, settings=settings, cancel=lambda: False, progress=lambda _f: None
    )
    assert decoding.decodes_started() - before == 1
