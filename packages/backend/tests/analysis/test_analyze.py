"""analyze() on synthetic songs with known beats, bars, chords and key, and on beat-less audio."""

from __future__ import annotations

import numpy as np
import pytest
from riffroom.analysis import ANALYSIS_VERSION, analyze

from tests.analysis.songs import SR, make_song, make_song_68

KEYS = {
    "bpm",
    "time_signature",
    "beats",
    "downbeats",
    "beat_positions",
    "tempo_curve",
    "key",
    "key_confidence",
    "chords",
    "sections",
    "steady_beat",
    "message",
}


def _near(est: list[float], ref: np.ndarray, tol: float = 0.07) -> float:
    """Fraction of reference times (after the first bar) with an estimate within `tol` seconds."""
    est_a = np.array(est)
    ref = ref[ref > 2.5]
    return float(np.mean([np.min(np.abs(est_a - r)) <= tol for r in ref])) if len(est_a) else 0.0


def _label_at(chords: list[dict[str, object]], t: float) -> str:
    return next(str(c["label"]) for c in chords if float(c["start"]) <= t < float(c["end"]))  # type: ignore[arg-type]


@pytest.mark.parametrize("use_stems", [True, False])
def test_four_four_song_beats_bars_key_and_chords(use_stems: bool) -> None:
    song = make_song(110.0, 4, ["C:maj", "F:maj", "G:maj", "C:maj", "A:min", "F:maj", "G:maj", "C:maj"], 12)
    progress: list[float] = []
    res = analyze(song.mixture, song.stems if use_stems else None, SR, progress.append).to_json()
    assert set(res) == KEYS
    assert res["steady_beat"] is True and res["message"] is None
    assert res["bpm"] == pytest.approx(110.0, rel=0.03)
    assert res["time_signature"] == "4/4"
    assert _near(res["beats"], song.beats) >= 0.95
    assert _near(res["downbeats"], song.downbeats) >= 0.9
    assert res["key"] == "C major" and 0.0 <= res["key_confidence"] <= 1.0
    bar = 4 * 60.0 / 110.0
    assert _label_at(res["chords"], 0.3 + 1.5 * bar) == "F:maj"
    assert _label_at(res["chords"], 0.3 + 4.5 * bar) == "A:min"
    positions = res["beat_positions"]
    assert len(positions) == len(res["beats"])
    assert [p["beat"] for p in positions if p["beat"] == 1] and {p["beat"] for p in positions} == {1, 2, 3, 4}
    assert all(c["label"] == "N" or ":" in c["label"] for c in res["chords"])
    assert res["sections"] and res["sections"][0]["label"] == "A"
    assert progress and progress[-1] == 1.0 and progress == sorted(progress)
    assert isinstance(ANALYSIS_VERSION, int)


def test_three_four_song() -> None:
    song = make_song(140.0, 3, ["D:min", "G:maj", "C:maj", "A:min"], 16, seed=1)
    res = analyze(song.mixture, song.stems, SR).to_json()
    assert res["time_signature"] == "3/4"
    assert _near(res["beats"], song.beats) >= 0.95
    assert _near(res["downbeats"], song.downbeats) >= 0.9
    assert {p["beat"] for p in res["beat_positions"]} == {1, 2, 3}


def test_six_eight_song_has_dotted_quarter_beats() -> None:
    """6/8 (kick on 1, snare on 4 of six eighths) is not read as 3/4: two dotted-quarter beats a bar."""
    song = make_song_68(72.0, ["G:maj", "E:min", "C:maj", "D:maj"], 14, seed=5)
    res = analyze(song.mixture, song.stems, SR).to_json()
    assert res["time_signature"] == "6/8"
    assert res["bpm"] == pytest.approx(72.0, rel=0.03)  # dotted quarters a minute
    assert _near(res["beats"], song.beats) >= 0.9
    assert _near(res["downbeats"], song.downbeats) >= 0.9
    assert {p["beat"] for p in res["beat_positions"]} == {1, 2}


def test_sustained_dominant_seventh_is_named_and_triads_stay_triads() -> None:
    song = make_song(100.0, 4, ["C:maj", "G:7", "A:min", "F:maj"], 8, seed=6)
    res = analyze(song.mixture, song.stems, SR).to_json()
    bar = 4 * 60.0 / 100.0
    assert [_label_at(res["chords"], 0.3 + (b + 0.5) * bar) for b in range(4)] == ["C:maj", "G:7", "A:min", "F:maj"]
    assert res["key"] == "C major"


def test_relative_minor_key() -> None:
    """A minor, not its relative C major: the song starts on A minor and resolves E major (V) to it."""
    song = make_song(96.0, 4, ["A:min", "F:maj", "C:maj", "E:maj"], 8, seed=7)
    res = analyze(song.mixture, song.stems, SR).to_json()
    assert res["key"] == "A minor"


def test_tempo_ramp_is_followed() -> None:
    bpms = [100.0] * 4 + [100.0 + 5.0 * k for k in range(1, 5)] + [120.0] * 6
    song = make_song(bpms, 4, ["E:min", "C:maj", "G:maj", "D:maj"], len(bpms), seed=2)
    res = analyze(song.mixture, song.stems, SR).to_json()
    assert _near(res["beats"], song.beats) >= 0.95
    curve = np.array(res["tempo_curve"])
    assert curve[curve[:, 0] < 6.0, 1].mean() == pytest.approx(100.0, rel=0.04)
    assert curve[curve[:, 0] > curve[-1, 0] - 6.0, 1].mean() == pytest.approx(120.0, rel=0.04)


def test_silence_has_no_beat() -> None:
    res = analyze(np.zeros((2, SR * 10), dtype=np.float32), None, SR).to_json()
    assert res["steady_beat"] is False and res["beats"] == [] and res["downbeats"] == []
    assert "no steady beat" in res["message"]


def test_noise_and_free_tempo_have_no_beat() -> None:
    rng = np.random.default_rng(3)
    noise = (0.2 * rng.standard_normal((2, SR * 12))).astype(np.float32)
    # free tempo: decaying tones at random moments, like speech syllables or rubato playing
    free = np.zeros(SR * 12)
    for t in np.cumsum(rng.uniform(0.15, 0.9, 30)):
        s = int(t * SR)
        m = min(int(0.2 * SR), len(free) - s)
        if m > 0:
            free[s : s + m] += np.sin(2 * np.pi * rng.uniform(150, 400) * np.arange(m) / SR) * np.exp(
                -np.arange(m) / (0.05 * SR)
            )
    for audio in (noise, np.stack([free, free]).astype(np.float32)):
        res = analyze(audio, None, SR).to_json()
        assert res["steady_beat"] is False, res["bpm"]
        assert res["beats"] == [] and res["downbeats"] == [] and res["message"] == "no steady beat found"


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        analyze(np.zeros((2, 100), dtype=np.float32), None, 0)
    with pytest.raises(ValueError, match="NaN"):
        analyze(np.full((2, SR), np.nan, dtype=np.float32), None, SR)
