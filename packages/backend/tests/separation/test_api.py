"""separate(): the cache hit, cancellation leaving nothing behind, stem selection, cheap imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from riffroom.config import Settings
from riffroom.errors import CancelledError
from riffroom.separation import api
from riffroom.separation.api import separate

from tests.fixtures.songs import synth_song, write_wav


def test_second_run_is_a_cache_hit_without_separating(song_wav: Path, settings: Settings, monkeypatch) -> None:
    first = separate(song_wav, engine="dsp", settings=settings)
    assert not first.cached
    monkeypatch.setattr(api, "_separate_into", lambda *a, **k: pytest.fail("separated twice"))
    again = separate(song_wav, engine="dsp", settings=settings)
    assert again.cached and again.stems == first.stems and again.cache_key == first.cache_key
    assert len(again.sha256) == 64


def test_same_bytes_under_another_name_hit_the_cache(song_wav: Path, settings: Settings, tmp_path: Path) -> None:
    separate(song_wav, engine="dsp", settings=settings)
    copy = tmp_path / "renamed.flac"
    copy.write_bytes(song_wav.read_bytes())
    assert separate(copy, engine="dsp", settings=settings).cached


def test_dsp_stems_sum_to_the_mixture(song_wav: Path, settings: Settings) -> None:
    result = separate(song_wav, engine="dsp", settings=settings)
    total = sum(sf.read(p, dtype="float32")[0] for p in result.stems.values())
    mixture, _ = sf.read(song_wav, dtype="float32")
    assert np.abs(total - mixture).max() < 1e-3


def test_cancel_mid_run_leaves_nothing(tmp_path: Path, settings: Settings) -> None:
    song = write_wav(tmp_path / "long.wav", synth_song(75.0).mixture)  # several 30 s dsp chunks
    stages = []

    def cancel() -> bool:
        return any(p.stage == "separating" and p.fraction > 0.1 for p in stages)

    with pytest.raises(CancelledError):
        separate(song, engine="dsp", settings=settings, progress=stages.append, cancel=cancel)
    cache_dir = settings.resolved_cache_dir
    assert list((cache_dir / "tmp").iterdir()) == []
    assert list((cache_dir / "objects").iterdir()) == []
    assert not separate(song, engine="dsp", settings=settings).cached  # nothing half-done was kept


def test_stem_selection_and_unknown_stems(song_wav: Path, settings: Settings) -> None:
    result = separate(song_wav, engine="dsp", stems=["vocals"], settings=settings)
    assert list(result.stems) == ["vocals"]
    with pytest.raises(ValueError, match="htdemucs_6s"):
        separate(song_wav, engine="dsp", stems=["guitar"], settings=settings)


def test_oversized_result_is_served_but_not_cached(song_wav: Path, tmp_path: Path) -> None:
    tiny = Settings(data_dir=tmp_path, cache_dir=tmp_path / "c", cache_budget_bytes=1000)
    result = separate(song_wav, engine="dsp", settings=tiny)
    assert not result.cached and result.stems["vocals"].is_file()
    result.release()
    assert not result.stems["vocals"].exists()
    assert list((tmp_path / "c" / "objects").iterdir()) == []


def test_importing_the_api_does_not_import_torch() -> None:
    code = "import sys, riffroom.separation.api, riffroom.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cache_hit_does_not_import_torch(song_wav: Path, settings: Settings, tmp_path: Path) -> None:
    separate(song_wav, engine="dsp", settings=settings)
    code = (
        "import sys; from pathlib import Path; from riffroom.config import Settings;"
        "from riffroom.separation.api import separate;"
        f"r = separate(Path({str(song_wav)!r}), engine='dsp', settings=Settings(data_dir=Path({str(tmp_path)!r}),"
        f" cache_dir=Path({str(settings.resolved_cache_dir)!r})));"
        "print(r.cached, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True False"
