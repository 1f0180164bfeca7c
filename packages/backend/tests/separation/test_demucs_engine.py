"""The demucs engine on real demucs code: the unittest model, a random HTDemucs loaded from a model
directory (the real loading path), and equality with demucs's own apply_model."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from riffroom.audio.decode import decode
from riffroom.config import Settings
from riffroom.errors import ModelUnavailableError
from riffroom.separation.api import separate
from riffroom.separation.engines import choose, models
from riffroom.separation.engines.demucs_engine import _cached_model
from riffroom.separation.engines.model_dir import random_htdemucs, save_model

from tests.fixtures.songs import synth_song, write_wav

SMALL = {"channels": 8, "bottom_channels": 0, "t_layers": 1, "segment": Fraction(39, 5)}


@pytest.fixture(scope="module")
def long_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 20 s: four 7.8 s chunks at stride 5.85 s, so every kind of seam is crossed.
    return write_wav(tmp_path_factory.mktemp("d") / "long.wav", synth_song(20.0, seed=3).mixture, subtype="FLOAT")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("models")
    save_model(random_htdemucs(**SMALL), "htdemucs", directory)
    return directory


def _reference(model, song: Path, settings: Settings) -> np.ndarray:
    """What demucs itself computes: normalise by the whole mix, apply_model(split, no shifts), undo."""
    from demucs.apply import apply_model

    with decode(song, settings=settings) as audio:
        mix = torch.from_numpy(audio.read(0, audio.frames))
    ref = mix.mean(0)
    mean, std = ref.mean(), ref.std() + 1e-8
    with torch.inference_mode():
        out = apply_model(model, ((mix - mean) / std)[None], shifts=0, split=True, overlap=0.25)
    return (out * std + mean)[0].numpy()


def _ours(result, sources) -> np.ndarray:
    return np.stack([sf.read(result.stems[name], dtype="float32")[0].T for name in sources])


@pytest.mark.parametrize("which", ["demucs_unittest", "htdemucs-random"])
def test_chunked_output_equals_apply_model(which: str, long_song: Path, model_dir: Path, tmp_path: Path) -> None:
    if which == "demucs_unittest":
        settings = Settings(data_dir=tmp_path, cache_dir=tmp_path / "c")
        model = _cached_model("demucs_unittest", None, "cpu")  # its weights are random per load
        name = "demucs_unittest"
    else:
        settings = Settings(data_dir=tmp_path, cache_dir=tmp_path / "c", model_dir=model_dir)
        model = models.load("htdemucs", model_dir)  # a fresh load from disk: same weights
        name = "htdemucs"
    result = separate(long_song, engine="demucs", model=name, settings=settings)
    expected = _reference(model, long_song, settings)
    ours = _ours(result, model.sources)
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() < 1e-4


def test_model_directory_is_the_real_loading_path(model_dir: Path, song_wav: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cache_dir=tmp_path / "c", model_dir=model_dir)
    assert models.weights_present("htdemucs", model_dir)
    choice = choose("auto", "htdemucs", model_dir)
    assert choice.engine == "demucs" and "present" in choice.reason
    result = separate(song_wav, settings=settings)  # auto
    assert result.engine == "demucs" and set(result.stems) == {"drums", "bass", "other", "vocals"}
    assert sf.info(result.stems["vocals"]).frames == sf.info(song_wav).frames


def test_auto_without_weights_falls_back_and_says_so(tmp_path: Path) -> None:
    choice = choose("auto", "htdemucs", tmp_path / "empty-models")  # the order: tests/separation/test_auto_choice.py
    assert choice.engine != "demucs" and "no weights" in choice.reason


def test_missing_weights_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as info:
        choose("demucs", "htdemucs_6s", tmp_path)
    message = str(info.value)
    assert "riffroom models fetch htdemucs_6s" in message and "RIFFROOM_MODEL_DIR" in message


def test_model_loaded_once_per_process(model_dir: Path, song_wav: Path, tmp_path: Path, monkeypatch) -> None:
    calls = []
    real = models.load
    monkeypatch.setattr(models, "load", lambda *a: calls.append(a) or real(*a))
    for i in range(2):
        settings = Settings(data_dir=tmp_path, cache_dir=tmp_path / f"c{i}", model_dir=model_dir)
        separate(song_wav, engine="demucs", settings=settings)
    assert len(calls) <= 1  # zero when an earlier test already loaded it in this process
