"""Fixtures for the job tests: real servers with real worker subprocesses, and test songs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.harness import ServerProcess, run_server
from tests.api.songfiles import make_song


@pytest.fixture(scope="session")
def long_mp3(songs_dir: Path) -> Path:
    """Long enough (with 5 s chunks) for a job to be caught mid-run: several seconds, many chunks."""
    return make_song(songs_dir, 120.0, "mp3", seed=2)


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with run_server(
        tmp_path_factory.mktemp("jobs-server"), workers=2, dsp_chunk_seconds=5.0, progress_min_interval_seconds=0.05
    ) as srv:
        yield srv
