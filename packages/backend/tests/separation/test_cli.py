"""`riffroom separate` and `riffroom models` as a user runs them: real subprocesses, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from riffroom.separation.engines import DSP_MODEL
from riffroom.separation.engines.dsp import DspEngine

from tests.fixtures.songs import encode, synth_song, write_wav


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RIFFROOM_")}
    env.update(
        RIFFROOM_DATA_DIR=str(tmp_path / "data"),
        RIFFROOM_CACHE_DIR=str(tmp_path / "cache"),
        RIFFROOM_MODEL_DIR=str(tmp_path / "no-models"),
        HF_HUB_OFFLINE="1",
        **extra,
    )
    return env


def _riffroom(tmp_path: Path, *args: str, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riffroom.cli", *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=300,
        **kw,
    )


def test_dsp_model_constant_matches_the_engine() -> None:
    assert DspEngine.model == DSP_MODEL


def test_batch_with_bad_files_completes_the_good_ones(tmp_path: Path, song_wav: Path) -> None:
    good_mp3 = encode(song_wav, tmp_path / "good song.mp3", "mp3")
    (tmp_path / "notes.mp3").write_text("not audio at all\n" * 10)
    silent = write_wav(tmp_path / "quiet.wav", np.zeros((44100, 2)))
    out = tmp_path / "out"
    proc = _riffroom(tmp_path, "separate", str(tmp_path / "notes.mp3"), str(good_mp3), str(silent), "-o", str(out))
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 2, proc.stderr
    assert "notes.mp3" in errors[0] and "not an audio file" in errors[0]
    assert "quiet.wav" in errors[1] and "silent" in errors[1]
    assert sorted(p.name for p in (out / "good song").iterdir()) == ["bass.wav", "drums.wav", "other.wav", "vocals.wav"]
    assert "auto: no weights" in proc.stdout  # says which engine ran and why


def test_json_progress_minus_stems_and_format(tmp_path: Path, song_wav: Path) -> None:
    out = tmp_path / "out"
    proc = _riffroom(
        tmp_path,
        "separate",
        str(song_wav),
        "-o",
        str(out),
        "--engine",
        "dsp",
        "--json",
        "--stems",
        "vocals,bass",
        "--minus",
        "vocals",
        "--format",
        "flac",
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    progress = [e for e in events if e["event"] == "progress"]
    assert {e["stage"] for e in progress} >= {"decoding", "separating", "done"}
    assert progress[-1]["percent"] == 100.0
    assert any(e["eta_seconds"] is not None for e in progress)
    done = events[-1]
    assert done["event"] == "done" and done["engine"] == "dsp" and done["cached"] is False
    assert sorted(p.name for p in (out / "song").iterdir()) == ["bass.flac", "no_vocals.flac", "vocals.flac"]
    mixture, _ = sf.read(song_wav)
    vocals, _ = sf.read(out / "song" / "vocals.flac")
    backing, _ = sf.read(out / "song" / "no_vocals.flac")
    assert np.abs(vocals + backing - mixture).max() < 2e-3  # flac is 24-bit
    again = _riffroom(tmp_path, "separate", str(song_wav), "-o", str(out), "--engine", "dsp")
    assert "from the cache" in again.stdout


def test_mp3_output(tmp_path: Path, song_wav: Path) -> None:
    proc = _riffroom(
        tmp_path,
        "separate",
        str(song_wav),
        "-o",
        str(tmp_path / "o"),
        "--engine",
        "dsp",
        "--format",
        "mp3",
        "--stems",
        "drums",
    )
    assert proc.returncode == 0, proc.stderr
    assert sf.info(tmp_path / "o" / "song" / "drums.mp3").duration == pytest.approx(8.0, abs=0.1)


def test_unknown_stem_for_the_engine_is_a_clear_error(tmp_path: Path, song_wav: Path) -> None:
    proc = _riffroom(tmp_path, "separate", str(song_wav), "--engine", "dsp", "--stems", "guitar")
    assert proc.returncode == 1 and "no guitar stem" in proc.stderr and "htdemucs_6s" in proc.stderr


def test_missing_weights_explain_how_to_get_them(tmp_path: Path, song_wav: Path) -> None:
    proc = _riffroom(tmp_path, "separate", str(song_wav), "--engine", "demucs")
    assert proc.returncode == 1 and "riffroom models fetch htdemucs" in proc.stderr


def test_models_lists_engines_and_weights(tmp_path: Path) -> None:
    proc = _riffroom(tmp_path, "models", "--json")
    rows = {row["model"]: row for row in map(json.loads, proc.stdout.splitlines())}
    assert rows["dsp"]["weights"] == "none needed"
    assert rows["htdemucs"]["weights"] == "missing" and rows["demucs_unittest"]["weights"] == "present"
    fetch = _riffroom(tmp_path, "models", "fetch", "htdemucs")  # offline here: must fail clearly
    assert fetch.returncode == 1 and "could not download htdemucs" in fetch.stderr


def test_interrupt_mid_run_leaves_no_output(tmp_path: Path) -> None:
    song = write_wav(tmp_path / "long.wav", synth_song(120.0).mixture)
    out = tmp_path / "out"
    # like Ctrl-C in a terminal: a suite started as a background job (`cmd &`) would hand the child an
    # ignored SIGINT, and Python installs no KeyboardInterrupt handler then
    proc = subprocess.Popen(
        [sys.executable, "-m", "riffroom.cli", "separate", str(song), "-o", str(out), "--engine", "dsp", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if json.loads(line)["stage"] == "separating":
            break
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert not out.exists() or not any(out.rglob("*.wav"))
    cache = tmp_path / "cache"
    assert list((cache / "tmp").iterdir()) == [] and list((cache / "objects").iterdir()) == []
