"""Shared fixtures: an isolated settings object per test (own data and cache dirs) and test songs."""

from __future__ import annotations

from pathlib import Path

import pytest
from riffroom.config import Settings

from tests.api.songfiles import make_song
from tests.fixtures.songs import synth_song, write_wav


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", model_dir=None)


@pytest.fixture(scope="session")
def songs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Test songs shared by the server and job tests (made once per session)."""
    return tmp_path_factory.mktemp("server-songs")


@pytest.fixture(scope="session")
def short_mp3(songs_dir: Path) -> Path:
    return make_song(songs_dir, 6.0, "mp3", seed=1)


@pytest.fixture(scope="session")
def song_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("songs") / "song.wav"
    return write_wav(path, synth_song(8.0).mixture)
