"""`riffroom analyze` as a user runs it: a real subprocess on a synthetic song with known tempo and key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from tests.analysis.songs import SR, make_song

ANALYSIS_KEYS = {
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


def _riffroom(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIFFROOM_")}
    env.update(
        RIFFROOM_DATA_DIR=str(tmp_path / "data"),
        RIFFROOM_CACHE_DIR=str(tmp_path / "cache"),
        RIFFROOM_MODEL_DIR=str(tmp_path / "no-models"),  # auto falls back to the dsp engine
        HF_HUB_OFFLINE="1",
        **settings,
    )
    return subprocess.run(
        [sys.executable, "-m", "riffroom.cli", "analyze", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


@pytest.fixture(scope="module")
def song_in_c(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 bars of 4/4 at 110 BPM in C major (I IV V I vi IV V I)."""
    song = make_song(110.0, 4, ["C:maj", "F:maj", "G:maj", "C:maj", "A:min", "F:maj", "G:maj", "C:maj"], 12)
    path = tmp_path_factory.mktemp("songs") / "in c.wav"
    sf.write(path, song.mixture.T, SR, subtype="FLOAT")
    return path


def test_json_lines_with_tempo_key_and_file(tmp_path: Path, song_in_c: Path) -> None:
    proc = _riffroom(tmp_path, str(song_in_c), "--json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert set(record) == ANALYSIS_KEYS | {"file"}
    assert record["file"] == str(song_in_c)
    assert record["bpm"] == pytest.approx(110.0, rel=0.03)
    assert record["time_signature"] == "4/4"
    assert record["key"] == "C major"
    assert record["chords"] and set(record["chords"][0]) == {"start", "end", "label"}
    assert record["sections"] and record["beats"] and record["downbeats"]

    assert len(list((tmp_path / "cache").rglob("analysis-v*.json"))) == 1  # kept beside the stems
    again = _riffroom(tmp_path, str(song_in_c))  # stems and analysis come from the cache now
    assert again.returncode == 0, again.stderr
    assert "110" in again.stdout and "4/4" in again.stdout and "C major" in again.stdout
    assert "F:maj" in again.stdout and "sections" in again.stdout


def test_bad_files_are_named_and_the_others_still_done(tmp_path: Path, song_in_c: Path) -> None:
    (tmp_path / "notes.mp3").write_text("not audio at all\n" * 10)
    missing = tmp_path / "gone.wav"
    proc = _riffroom(tmp_path, str(tmp_path / "notes.mp3"), str(song_in_c), str(missing), "--json")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 2, proc.stderr
    assert "notes.mp3" in errors[0] and "not an audio file" in errors[0]
    assert "gone.wav" in errors[1] and "no such file" in errors[1]
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(song_in_c)]
    assert records[0]["key"] == "C major"


def test_stems_the_cache_cannot_keep_are_still_analysed(tmp_path: Path, song_in_c: Path) -> None:
    proc = _riffroom(tmp_path, str(song_in_c), "--json", RIFFROOM_CACHE_BUDGET_BYTES="1000")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert set(record) == ANALYSIS_KEYS | {"file"}
    assert record["bpm"] == pytest.approx(110.0, rel=0.03) and record["key"] == "C major"
    assert not list((tmp_path / "cache").rglob("*.wav")) and not list((tmp_path / "cache").rglob("analysis-v*"))
