"""Custom mixes stay bounded on disk: only the most recently used few of a song are kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from riffroom.audio import derived

KEY = "k" * 64


def _stems(directory: Path) -> dict[str, Path]:
    stems = {}
    for i, name in enumerate(("vocals", "drums", "bass", "other")):
        path = directory / f"{name}.wav"
        tone = 0.1 * np.sin(np.arange(22050) * (i + 1) / 20.0)
        sf.write(path, np.stack([tone, tone], axis=1).astype(np.float32), 44100, subtype="FLOAT")
        stems[name] = path
    return stems


def _mixes(derived_dir: Path) -> set[str]:
    return {p.name for p in (derived_dir / KEY).iterdir()}


def test_only_the_most_recently_used_mixes_stay(tmp_path: Path) -> None:
    stems, out = _stems(tmp_path), tmp_path / "derived"
    made = []
    for n in range(6):  # six gain settings, as a user trying them one after another
        path = derived.mix(out, KEY, stems, {"vocals": -float(n)}, "wav", keep=3)
        assert path.is_file()
        made.append(path.name)
        os.utime(path, (time.time() - 100 + n, time.time() - 100 + n))  # distinct "last used" times
    assert _mixes(out) == set(made[-3:])

    again = derived.mix(out, KEY, stems, {"vocals": -3.0}, "wav", keep=3)  # using one bumps it
    assert again.name == made[3]
    derived.mix(out, KEY, stems, {"vocals": -10.0}, "wav", keep=3)
    assert made[3] in _mixes(out) and made[4] not in _mixes(out) and len(_mixes(out)) == 3

    first = derived.mix(out, KEY, stems, {"vocals": 0.0}, "wav", keep=3)  # a pruned one is made anew
    assert first.name == made[0] and first.is_file()
    data, rate = sf.read(first)
    assert rate == 44100 and data.shape == (22050, 2)
    assert len(_mixes(out)) == 3  # and no temporary file is left beside them


def test_other_derived_files_are_not_pruned(tmp_path: Path) -> None:
    stems, out = _stems(tmp_path), tmp_path / "derived"
    derived.peaks(out, KEY, "vocals", stems["vocals"], 50)
    flac = derived.transcoded(out, KEY, "vocals", stems["vocals"], "flac")
    for n in range(4):
        path = derived.mix(out, KEY, stems, {"drums": -float(n)}, "wav", keep=1)
        os.utime(path, (time.time() - 100 + n, time.time() - 100 + n))
    names = _mixes(out)
    assert flac.name in names and "vocals.peaks-50.json" in names
    assert len([n for n in names if n.startswith("mix-")]) == 1


def test_a_mix_used_a_moment_ago_is_not_pruned(tmp_path: Path) -> None:
    """Another request may be about to serve it: only mixes unused for a minute go."""
    stems, out = _stems(tmp_path), tmp_path / "derived"
    for n in range(3):
        derived.mix(out, KEY, stems, {"bass": -float(n)}, "wav", keep=1)
    assert len(_mixes(out)) == 3  # all three were used just now
    for path in (out / KEY).iterdir():
        os.utime(path, (time.time() - 61, time.time() - 61))
    derived.mix(out, KEY, stems, {"bass": -9.0}, "wav", keep=1)
    assert len(_mixes(out)) == 1
