"""The weight-free dsp engine: exact stem sums, robustness on odd windows, and real separation."""

from __future__ import annotations

import numpy as np
import pytest
from riffroom.separation.engine import SAMPLE_RATE, MixStats
from riffroom.separation.engines.dsp import DspEngine, Track

SR = SAMPLE_RATE


def _stats(x: np.ndarray) -> MixStats:
    mono = x.mean(axis=0)
    return MixStats(float(mono.mean()), float(mono.std()), float(np.abs(mono).max()), x.shape[-1])


def _tone(f0: np.ndarray, n_harm: int, decay: float) -> np.ndarray:
    phase = 2 * np.pi * np.cumsum(f0) / SR
    return sum(decay ** (h - 1) * np.sin(h * phase) for h in range(1, n_harm + 1))


def _synthetic_song(seconds: float = 6.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Stereo stems [2, N]: noise-burst drums, a harmonic bass line, a centred vibrato voice, a panned pad."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    beat = 0.5
    # drums: decaying noise bursts on every beat, a low thump on every other beat
    drums = np.zeros(n)
    for k, start in enumerate(np.arange(0, seconds, beat / 2)):
        i = int(start * SR)
        m = min(n - i, int(0.15 * SR))
        env = np.exp(-np.arange(m) / (0.02 * SR))
        drums[i : i + m] += 0.6 * rng.standard_normal(m) * env
        if k % 4 == 0:
            drums[i : i + m] += 0.8 * np.sin(2 * np.pi * 60 * np.arange(m) / SR) * np.exp(-np.arange(m) / (0.03 * SR))
    # bass: one note per beat from a short line
    line = np.array([55.0, 55.0, 73.4, 82.4, 65.4, 65.4, 49.0, 61.7])
    f_bass = line[(t / beat).astype(int) % len(line)]
    bass = 0.5 * _tone(f_bass, 4, 0.5) * np.minimum(1, (t % beat) / 0.01) * np.exp(-(t % beat) / 0.8)
    # voice: phrase of 1 s notes with 5.5 Hz vibrato, silent one second in three
    melody = np.array([392.0, 440.0, 0.0, 493.9, 440.0, 0.0])
    f_voc = melody[(t / 1.0).astype(int) % len(melody)]
    voiced = f_voc > 0
    f_voc = np.where(voiced, f_voc, 440.0) * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    vocals = 0.35 * _tone(f_voc, 8, 0.6) * voiced
    # other: a sustained chord, panned hard left
    chord = sum(0.25 * _tone(np.full(n, f), 5, 0.5) for f in (261.6, 329.6, 392.0 * 1.0595))
    stems = {
        "drums": np.stack([drums, drums]),
        "bass": np.stack([bass, bass]),
        "other": np.stack([0.95 * chord, 0.25 * chord]),
        "vocals": np.stack([vocals, vocals]),
    }
    return {k: v.astype(np.float32) for k, v in stems.items()}


def _snr(ref: np.ndarray, est: np.ndarray) -> float:
    ref, est = ref.astype(np.float64), est.astype(np.float64)
    return float(10 * np.log10(np.sum(ref**2) / (np.sum((ref - est) ** 2) + 1e-12)))


def test_protocol_attributes() -> None:
    e = DspEngine(chunk_seconds=10.0)
    assert e.name == "dsp" and e.model.startswith("dsp-")
    assert e.sources == ("drums", "bass", "other", "vocals")
    assert e.segment_frames == 10 * SR
    assert 0 < e.overlap < 0.5
    assert e.padded_length(12345) >= 12345


@pytest.mark.parametrize("n", [0, 1, 100, 700, 2048, 4097, int(0.3 * SR), 3 * SR + 17])
def test_shapes_dtype_and_exact_sum(n: int) -> None:
    rng = np.random.default_rng(n)
    x = (0.3 * rng.standard_normal((2, n))).astype(np.float32)
    out = DspEngine().separate_window(x, _stats(x) if n else MixStats(0, 0, 0, 0))
    assert out.shape == (4, 2, n) and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    if n:
        assert np.abs(out.sum(axis=0) - x).max() < 1e-4


def test_silent_window() -> None:
    x = np.zeros((2, SR), dtype=np.float32)
    out = DspEngine().separate_window(x, MixStats(0.0, 0.0, 0.0, SR))
    assert out.shape == (4, 2, SR) and not np.any(out)


def test_near_silent_and_mono_like_window() -> None:
    x = np.zeros((2, SR), dtype=np.float32)
    x[:, 1000] = 1e-6  # one tiny click, identical in both channels
    out = DspEngine().separate_window(x, _stats(x))
    assert np.all(np.isfinite(out)) and np.abs(out.sum(axis=0) - x).max() < 1e-6


def test_separates_a_synthetic_song() -> None:
    stems = _synthetic_song()
    mix = sum(stems.values())
    engine = DspEngine()
    out = engine.separate_window(mix, _stats(mix))
    assert np.abs(out.sum(axis=0) - mix).max() < 1e-4
    for j, name in enumerate(engine.sources):
        ref = stems[name]
        gain = _snr(ref, out[j]) - _snr(ref, mix / 4)
        assert gain > 3.0, f"{name}: only {gain:.1f} dB better than mix/4"


def test_soft_voicing_weights_and_wiener_option_keep_exact_sums() -> None:
    from dataclasses import replace

    from riffroom.separation.engines import dsp as D

    stems = _synthetic_song(seconds=3.0, seed=2)
    mix = sum(stems.values())
    p = D.DspParams()
    spec = D._stft(mix, p.n_fft, p.hop)
    mag = np.abs(spec).mean(axis=0)
    f0, w = D._track(mag, p.voc, SR / p.n_fft)
    assert f0.shape == w.shape and np.all((w >= 0) & (w <= 1))
    assert np.all(f0[w > 1e-3] > 0)
    engine = DspEngine(params=replace(p, wiener=True))
    out = engine.separate_window(mix, _stats(mix))
    assert np.abs(out.sum(axis=0) - mix).max() < 1e-4


def test_pan_cues_measure_panning_and_phase() -> None:
    from riffroom.separation.engines import dsp as D

    p = D.DspParams()
    left = np.array([[1.0, 0.95, 1.0, 0.9]], dtype=np.complex64)
    right = np.array([[1.0, 0.05, 1j, 0.9j]], dtype=np.complex64)  # centre, hard left, 90 degrees apart
    panned, in_phase = D._pan_cues(np.stack([left, right]), p)
    assert panned[0, 0] == 0.0 and panned[0, 1] == 1.0 and panned[0, 2] == 0.0
    assert in_phase[0, 0] == 1.0 and in_phase[0, 1] == 1.0 and in_phase[0, 2] == 0.0 and in_phase[0, 3] == 0.0


def _bursts(n: int, rng: np.random.Generator, every: float, offset: float) -> np.ndarray:
    out = np.zeros(n)
    for start in np.arange(offset, n / SR, every):
        i = int(start * SR)
        m = min(n - i, int(0.08 * SR))
        out[i : i + m] += rng.standard_normal(m) * np.exp(-np.arange(m) / (0.015 * SR))
    return out


def _share(ref: np.ndarray, est: np.ndarray) -> float:
    """How much of a source's energy an estimate holds (projection onto the source)."""
    ref, est = ref.astype(np.float64).ravel(), est.astype(np.float64).ravel()
    return float(np.dot(ref, est) / np.dot(ref, ref))


def test_hard_panned_percussion_goes_to_other_and_centred_stays_drums() -> None:
    rng = np.random.default_rng(3)
    n = 4 * SR
    centred = 0.5 * _bursts(n, rng, 0.5, 0.0)
    side = 0.5 * _bursts(n, rng, 0.5, 0.25)  # a shaker on the off-beats, hard left
    stems = {"centred": np.stack([centred, centred]), "side": np.stack([0.95 * side, 0.05 * side])}
    mix = (stems["centred"] + stems["side"]).astype(np.float32)
    engine = DspEngine()
    out = engine.separate_window(mix, _stats(mix))
    drums, other = engine.sources.index("drums"), engine.sources.index("other")
    assert _share(stems["centred"], out[drums]) > 0.8
    assert _share(stems["side"], out[other]) > 0.6
    assert _share(stems["side"], out[drums]) < 0.3


def test_in_phase_gate_keeps_a_wide_stereo_voice_in_vocals() -> None:
    """A voice from a stereo sample (channels differ in level and phase per partial) is not 'panned'."""
    from dataclasses import replace

    n = 4 * SR
    t = np.arange(n) / SR
    melody = np.array([392.0, 440.0, 493.9, 440.0])
    f0 = melody[(t / 1.0).astype(int) % len(melody)] * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    rng = np.random.default_rng(5)
    gains = rng.uniform(0.2, 1.0, size=(2, 8))
    offsets = rng.uniform(0, 2 * np.pi, size=(2, 8))
    voice = np.stack(
        [sum(0.3 * 0.7**h * gains[c, h] * np.sin((h + 1) * phase + offsets[c, h]) for h in range(8)) for c in range(2)]
    )
    mix = voice.astype(np.float32)
    vocals = DspEngine().sources.index("vocals")
    gated = DspEngine().separate_window(mix, _stats(mix))
    ungated = DspEngine(params=replace(DspEngine().params, coherence_lo=-3.0, coherence_hi=-2.0))
    without_gate = ungated.separate_window(mix, _stats(mix))
    assert _share(voice, gated[vocals]) > _share(voice, without_gate[vocals]) + 0.1
    assert _share(voice, gated[vocals]) > 0.5


def test_a_ringing_centred_cymbal_goes_to_drums() -> None:
    """A crash rings for seconds, which HPSS calls harmonic; centred high-frequency wash still ends in drums."""
    from dataclasses import replace

    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(11)
    n = 4 * SR
    noise = sosfilt(butter(4, 5000, "highpass", fs=SR, output="sos"), rng.standard_normal(n))
    env = np.zeros(n)
    for start in (0, 2 * SR):
        env[start:] += np.exp(-np.arange(n - start) / (1.2 * SR))
    crash = 0.3 * noise * env
    mix = np.stack([crash, crash]).astype(np.float32)
    drums = DspEngine().sources.index("drums")
    with_wash = DspEngine().separate_window(mix, _stats(mix))
    without = DspEngine(params=replace(DspEngine().params, cymbal_share=0.0)).separate_window(mix, _stats(mix))
    assert _share(mix, with_wash[drums]) > 0.8
    assert _share(mix, with_wash[drums]) > _share(mix, without[drums]) + 0.2


def _comb_every_harmonic(f0_track: np.ndarray, n_bins: int, tr: Track, bin_hz: float) -> np.ndarray:
    """The comb as first written: every harmonic's bump over the bins it can reach, the largest kept."""
    mask = np.zeros((n_bins, len(f0_track)), dtype=np.float32)
    bins = np.arange(n_bins, dtype=np.float32)[:, None]
    voiced = np.nonzero(f0_track > 0)[0]
    f0 = f0_track[voiced][None, :]
    for h in range(1, int(tr.max_hz / f0.min()) + 2):
        fh = h * f0
        if np.all(fh > tr.max_hz):
            break
        centre = fh / bin_hz
        width = tr.comb_width + tr.comb_width_rel * centre
        lo = max(0, int(np.floor(np.min(centre - 4 * width))))
        hi = min(n_bins, int(np.ceil(np.max(centre + 4 * width))) + 1)
        if lo < hi:
            g = np.exp(-0.5 * ((bins[lo:hi] - centre) / width) ** 2) * (fh <= tr.max_hz)
            mask[lo:hi, voiced] = np.maximum(mask[lo:hi, voiced], g)
    return mask


@pytest.mark.parametrize("wide", [False, True])
def test_comb_mask_equals_trying_every_harmonic(wide: bool) -> None:
    """The comb evaluates only the harmonics nearest each bin (or all, for bumps wide for their spacing)."""
    from dataclasses import replace

    from riffroom.separation.engines.dsp.melody import comb_mask

    p = DspEngine().params
    tr = replace(p.voc, comb_width_rel=0.2) if wide else p.voc
    rng = np.random.default_rng(7)
    midi = rng.uniform(tr.lo_midi, tr.hi_midi, 400)
    f0 = np.where(rng.random(400) < 0.3, 0.0, 440.0 * 2 ** ((midi - 69) / 12))
    f0[:3] = (207.65, 783.99, 9000.0)  # the range's ends, and a pitch with no harmonic under max_hz
    bin_hz = SR / p.n_fft
    n_bins = p.n_fft // 2 + 1
    ours = comb_mask(f0, n_bins, tr, bin_hz)
    assert ours.shape == (n_bins, 400) and ours.dtype == np.float32
    assert np.abs(ours - _comb_every_harmonic(f0, n_bins, tr, bin_hz)).max() < 1e-6
    assert not np.any(ours[:, f0 == 0]) and not np.any(ours[:, 2])
    weight = rng.random(400).astype(np.float32)
    assert np.allclose(comb_mask(f0, n_bins, tr, bin_hz, weight), ours * weight[None, :])


@pytest.mark.parametrize(("n_fft", "hop"), [(4096, 1024), (1000, 300)])
def test_stft_pair_reconstructs_the_signal(n_fft: int, hop: int) -> None:
    """Both layouts of the STFT pair invert exactly, also when hop does not divide the frame."""
    from riffroom.separation.engines.dsp.spectrum import istft, istft_frames, stft, stft_frames

    x = np.random.default_rng(1).standard_normal((2, 3 * n_fft + 77)).astype(np.float32)
    spec_tf = stft_frames(x, n_fft, hop)
    spec = stft(x, n_fft, hop)
    assert spec_tf.dtype == spec.dtype == np.complex64
    assert np.array_equal(spec, spec_tf.transpose(0, 2, 1))
    assert np.abs(istft_frames(spec_tf, n_fft, hop, x.shape[1]) - x).max() < 1e-5
    assert np.abs(istft(spec, n_fft, hop, x.shape[1]) - x).max() < 1e-5
