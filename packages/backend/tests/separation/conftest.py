"""The songs and random demucs models the exactness tests share (test_demucs_exactness.py,
test_mkl_dispatch.py): one module-scoped set per module."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from riffroom.separation.engines.model_dir import random_htdemucs, save_model

from tests.fixtures.songs import synth_song, write_wav

SMALL = {"channels": 8, "bottom_channels": 0, "t_layers": 1, "segment": Fraction(39, 5)}


@pytest.fixture(scope="module")
def songs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("songs")
    return {
        # 20 s: four chunks at stride 5.85 s, every kind of seam; 8 s: two chunks, one seam.
        "long": write_wav(folder / "long.wav", synth_song(20.0, seed=3).mixture, subtype="FLOAT"),
        "short": write_wav(folder / "short.wav", synth_song(8.0, seed=4).mixture, subtype="FLOAT"),
    }


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    small = tmp_path_factory.mktemp("small")
    save_model(random_htdemucs(**SMALL), "htdemucs", small)
    published = tmp_path_factory.mktemp("published")
    save_model(random_htdemucs(seed=5), "htdemucs", published)
    return {"small": small, "published": published}
