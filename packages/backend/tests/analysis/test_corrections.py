"""apply_corrections: the user's grid shift, tempo halving/doubling, time signature and chord edits
turn an analysis into the corrected one, and bad corrections are refused with a clear reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from riffroom.analysis.corrections import CorrectionError, apply_corrections, is_chord_label, parse_corrections

BEAT = 0.5  # 120 bpm


def _analysis(n_beats: int = 16, first: float = 0.5) -> dict[str, Any]:
    """A 4/4 analysis at 120 bpm, beats every 0.5 s from `first`, a downbeat on every 4th beat."""
    beats = [round(first + i * BEAT, 3) for i in range(n_beats)]
    return {
        "version": 1,
        "bpm": 120.0,
        "time_signature": "4/4",
        "beats": beats,
        "downbeats": beats[::4],
        "beat_positions": [{"time": t, "bar": i // 4 + 1, "beat": i % 4 + 1} for i, t in enumerate(beats)],
        "tempo_curve": [[t, 120.0] for t in beats],
        "key": "C major",
        "key_confidence": 0.8,
        "chords": [
            {"start": 0.0, "end": 2.5, "label": "C:maj"},
            {"start": 2.5, "end": 4.5, "label": "F:maj"},
            {"start": 4.5, "end": 8.5, "label": "G:maj"},
        ],
        "sections": [{"start": 0.0, "end": 8.5, "label": "A"}],
        "steady_beat": True,
        "message": None,
    }


def _positions(result: dict[str, Any]) -> list[tuple[int, int]]:
    return [(p["bar"], p["beat"]) for p in result["beat_positions"]]


def test_no_corrections_change_nothing_and_the_input_is_left_alone() -> None:
    analysis = _analysis()
    before = copy.deepcopy(analysis)
    assert apply_corrections(analysis, {}) == before
    assert apply_corrections(analysis, {"first_downbeat": None, "tempo_factor": 1, "chords": []}) == before
    apply_corrections(analysis, {"first_downbeat": 1.0, "tempo_factor": 2, "time_signature": "3/4"})
    assert analysis == before


def test_first_downbeat_moves_the_bar_lines_and_makes_a_pickup() -> None:
    analysis = _analysis()
    out = apply_corrections(analysis, {"first_downbeat": 1.02})  # snaps to the beat at 1.0 s
    assert out["downbeats"] == [1.0, 3.0, 5.0, 7.0]
    assert _positions(out)[:6] == [(0, 4), (1, 1), (1, 2), (1, 3), (1, 4), (2, 1)]
    assert out["beats"] == analysis["beats"] and out["bpm"] == 120.0
    later = apply_corrections(analysis, {"first_downbeat": 3.0})  # any beat 1 sets the phase
    assert later["downbeats"] == out["downbeats"] and _positions(later) == _positions(out)


def test_halving_keeps_every_other_beat_in_phase_with_the_downbeat() -> None:
    analysis = _analysis()
    out = apply_corrections(analysis, {"tempo_factor": 0.5})
    assert out["beats"] == analysis["beats"][::2]
    assert out["bpm"] == 60.0 and {b for _, b in out["tempo_curve"]} == {60.0}
    assert [t for t, _ in out["tempo_curve"]] == out["beats"]
    assert out["downbeats"] == [0.5, 4.5]  # still 4 beats a bar: bars twice as long
    shifted = apply_corrections(analysis, {"tempo_factor": 0.5, "first_downbeat": 1.0})
    assert shifted["beats"] == analysis["beats"][1::2] and shifted["downbeats"][0] == 1.0


def test_doubling_inserts_midpoints() -> None:
    analysis = _analysis(n_beats=5)
    out = apply_corrections(analysis, {"tempo_factor": 2})
    assert out["beats"] == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5]
    assert out["bpm"] == 240.0 and len(out["tempo_curve"]) == 9 and out["tempo_curve"][1] == [0.75, 240.0]
    assert out["downbeats"] == [0.5, 1.5, 2.5]
    assert len(out["beat_positions"]) == len(out["beats"])


def test_a_varying_tempo_curve_follows_the_factor() -> None:
    analysis = _analysis(n_beats=4)
    analysis["tempo_curve"] = [[0.5, 100.0], [1.0, 110.0], [1.5, 120.0], [2.0, 130.0]]
    out = apply_corrections(analysis, {"tempo_factor": 2})
    assert out["tempo_curve"][:3] == [[0.5, 200.0], [0.75, 210.0], [1.0, 220.0]]


@pytest.mark.parametrize(
    ("signature", "per_bar"), [("3/4", 3), ("6/8", 2), ("12/8", 4), ("4/4", 4), ("7/8", 7), ("6/4", 6)]
)
def test_time_signature_regroups_the_beats(signature: str, per_bar: int) -> None:
    analysis = _analysis(n_beats=12)
    out = apply_corrections(analysis, {"time_signature": signature})
    assert out["time_signature"] == signature
    assert out["downbeats"] == analysis["beats"][::per_bar]
    assert {b for _, b in _positions(out)} == set(range(1, per_bar + 1))
    assert _positions(out)[per_bar] == (2, 1)


def test_chord_edits_replace_the_analysis_over_their_spans_only() -> None:
    out = apply_corrections(
        _analysis(),
        {"chords": [{"start": 2.0, "end": 3.0, "label": "A:min"}, {"start": 6.0, "end": 7.0, "label": "N"}]},
    )
    assert [(c["start"], c["end"], c["label"]) for c in out["chords"]] == [
        (0.0, 2.0, "C:maj"),
        (2.0, 3.0, "A:min"),
        (3.0, 4.5, "F:maj"),
        (4.5, 6.0, "G:maj"),
        (6.0, 7.0, "N"),
        (7.0, 8.5, "G:maj"),
    ]


def test_an_analysis_without_a_beat_takes_chords_and_meter_but_invents_no_beats() -> None:
    analysis = _analysis()
    analysis.update(beats=[], downbeats=[], beat_positions=[], tempo_curve=[], bpm=None, steady_beat=False)
    out = apply_corrections(
        analysis,
        {
            "first_downbeat": 1.0,
            "tempo_factor": 2,
            "time_signature": "3/4",
            "chords": [{"start": 0, "end": 1, "label": "D:7"}],
        },
    )
    assert out["beats"] == [] and out["beat_positions"] == [] and out["bpm"] is None and out["steady_beat"] is False
    assert out["time_signature"] == "3/4" and out["chords"][0] == {"start": 0.0, "end": 1.0, "label": "D:7"}


@pytest.mark.parametrize(
    "label", ["N", "C:maj", "C#:min", "Bb:7", "F#:maj7", "Eb:min7", "B:dim", "G:aug", "Ab:sus2", "D:sus4"]
)
def test_harte_labels_are_chord_labels(label: str) -> None:
    assert is_chord_label(label)


@pytest.mark.parametrize(
    ("corrections", "reason"),
    [
        ({"chords": [{"start": 0, "end": 1, "label": "H:maj"}]}, "chords\\[0\\].label 'H:maj' is not a chord label"),
        ({"chords": [{"start": 0, "end": 1, "label": "C:major"}]}, "is not a chord label"),
        ({"chords": [{"start": 0, "end": 1, "label": "c:min"}]}, "is not a chord label"),
        ({"chords": [{"start": 0, "end": 1, "label": "C"}]}, "is not a chord label"),
        ({"chords": [{"start": 2, "end": 1, "label": "C:maj"}]}, "ends .* before it starts"),
        ({"chords": [{"start": 0, "end": 2, "label": "C:maj"}, {"start": 1, "end": 3, "label": "G:maj"}]}, "overlap"),
        ({"chords": [{"start": -1, "end": 2, "label": "C:maj"}]}, "between 0 and"),
        ({"chords": [{"start": 0, "label": "C:maj"}]}, "exactly \\{start, end, label\\}"),
        ({"time_signature": "5/5"}, "'5/5' is not a time signature"),
        ({"time_signature": "0/4"}, "is not a time signature"),
        ({"time_signature": "four"}, "is not a time signature"),
        ({"time_signature": "17/4"}, "is not a time signature"),
        ({"tempo_factor": 3}, "tempo_factor must be 0.5, 1 or 2"),
        ({"tempo_factor": True}, "tempo_factor must be 0.5, 1 or 2"),
        ({"first_downbeat": float("nan")}, "first_downbeat must be a number"),
        ({"first_downbeat": -0.5}, "first_downbeat must be between 0"),
        ({"swing": 0.6}, "unknown correction fields: swing"),
    ],
)
def test_bad_corrections_are_refused_with_the_reason(corrections: dict[str, Any], reason: str) -> None:
    with pytest.raises(CorrectionError, match=reason):
        parse_corrections(corrections)
    with pytest.raises(CorrectionError):
        apply_corrections(_analysis(), corrections)


def test_corrections_round_trip_through_their_json() -> None:
    fix = parse_corrections(
        {
            "first_downbeat": 1.5,
            "tempo_factor": 0.5,
            "time_signature": "6/8",
            "chords": [{"start": 1, "end": 2, "label": "E:min"}],
        }
    )
    assert fix.to_json() == {
        "first_downbeat": 1.5,
        "tempo_factor": 0.5,
        "time_signature": "6/8",
        "chords": [{"start": 1.0, "end": 2.0, "label": "E:min"}],
    }
    assert parse_corrections(fix.to_json()) == fix
    assert parse_corrections({}).to_json()["tempo_factor"] == 1
