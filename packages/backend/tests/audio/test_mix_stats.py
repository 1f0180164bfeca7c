"""Mix stats kept by content hash in the stem store: read back exactly, ignored when another
ffmpeg build made them or when unreadable, and measured only once per content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from riffroom.audio import decode as decoding
from riffroom.audio.mix_stats import (
    MIX_STATS_SIDECAR,
    known_mix_stats,
    measure_and_remember,
    measure_mix_stats,
    remember_mix_stats,
)
from riffroom.config import Settings
from riffroom.storage.stems import StemCache

from tests.fixtures.songs import synth_song, write_wav

SHA = "ab" * 32


def test_stats_round_trip_exactly_and_belong_to_their_decoder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", model_dir=None)
    song = write_wav(tmp_path / "song.wav", synth_song(4.0, seed=9).mixture)
    store = StemCache(tmp_path / "cache", 1 << 30)
    assert known_mix_stats(store, SHA) is None
    before = decoding.decodes_started()
    measured = measure_and_remember(store, SHA, song, settings)
    assert measured is not None and measured == measure_mix_stats(song, settings=settings)
    assert known_mix_stats(store, SHA) == measured, "floats survive the JSON exactly"
    assert measure_and_remember(store, SHA, song, settings) is None, "kept already: not measured again"
    assert decoding.decodes_started() - before == 2  # the two measure calls above, not the skipped one

    record = json.loads(store.read_song_sidecar(SHA, MIX_STATS_SIDECAR) or b"{}")
    store.put_song_sidecar(SHA, MIX_STATS_SIDECAR, json.dumps({**record, "decoder": "ffmpeg version other"}).encode())
    assert known_mix_stats(store, SHA) is None, "another ffmpeg build's stats are not used"
    store.put_song_sidecar(SHA, MIX_STATS_SIDECAR, b"{not json")
    assert known_mix_stats(store, SHA) is None
    remember_mix_stats(store, SHA, measured)
    assert known_mix_stats(store, SHA) == measured


def test_a_bad_song_gets_no_stats_and_no_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", model_dir=None)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + bytes(200))
    store = StemCache(tmp_path / "cache", 1 << 30)
    assert measure_and_remember(store, SHA, junk, settings) is None
    assert known_mix_stats(store, SHA) is None


def test_song_sidecars_refuse_bad_names_and_hashes(tmp_path: Path) -> None:
    store = StemCache(tmp_path / "cache", 1 << 30)
    with pytest.raises(ValueError):
        store.put_song_sidecar("../" + SHA[3:], MIX_STATS_SIDECAR, b"{}")
    with pytest.raises(ValueError):
        store.put_song_sidecar(SHA, "../escape.json", b"{}")
