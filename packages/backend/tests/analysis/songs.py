"""Synthetic songs with known beats, bars and chords for the analysis tests (numpy only, seeded)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SR = 44100
NOTE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
TRIADS = {"maj": (0, 4, 7), "min": (0, 3, 7), "7": (0, 4, 7, 10)}  # "7": a sustained dominant seventh


@dataclass
class SynthSong:
    mixture: np.ndarray  # [2, n]
    stems: dict[str, np.ndarray]
    beats: np.ndarray
    downbeats: np.ndarray
    chords: list[tuple[float, float, str]]


def _tone(freq: float, n: int, decay_s: float) -> np.ndarray:
    t = np.arange(n) / SR
    env = np.exp(-t / decay_s) * np.minimum(1.0, t / 0.005)
    return sum(np.sin(2 * np.pi * freq * h * t) / h for h in (1, 2, 3)) * env


def make_song(
    bpms: list[float] | float, beats_per_bar: int, progression: list[str], bars: int, seed: int = 0
) -> SynthSong:
    """Kick on bar starts, snare on the other beats, hats on 8ths; one triad + bass root per bar.

    `bpms` may be one tempo or one per bar (a ramp or a jump)."""
    rng = np.random.default_rng(seed)
    per_bar = [float(bpms)] * bars if isinstance(bpms, (int, float)) else list(bpms)
    beats, t = [], 0.3
    for b in range(bars):
        for _ in range(beats_per_bar):
            beats.append(t)
            t += 60.0 / per_bar[b]
    end = t + 0.5
    n = int(end * SR)
    drums, bass, keys = np.zeros(n), np.zeros(n), np.zeros(n)
    chords = []
    for i, bt in enumerate(beats):
        s = int(bt * SR)
        m = min(int(0.3 * SR), n - s)
        if i % beats_per_bar == 0:
            k = np.arange(m) / SR
            drums[s : s + m] += 0.8 * np.sin(2 * np.pi * 60 * k * (1 + 1.5 * np.exp(-k / 0.03))) * np.exp(-k / 0.08)
        else:
            drums[s : s + m] += 0.4 * rng.standard_normal(m) * np.exp(-np.arange(m) / (0.05 * SR))
        nxt = beats[i + 1] if i + 1 < len(beats) else bt + (bt - beats[i - 1])
        h = int((bt + nxt) / 2 * SR)
        hm = min(int(0.04 * SR), n - h)
        drums[h : h + hm] += 0.15 * rng.standard_normal(hm) * np.exp(-np.arange(hm) / (0.01 * SR))
    for b in range(bars):
        name = progression[b % len(progression)]
        root, qual = name.split(":")
        pc = NOTE[root[0]] + (1 if root.endswith("#") else -1 if root.endswith("b") and len(root) > 1 else 0)
        start = beats[b * beats_per_bar]
        stop = beats[(b + 1) * beats_per_bar] if (b + 1) * beats_per_bar < len(beats) else end - 0.5
        s, m = int(start * SR), int((stop - start) * SR)
        for iv in TRIADS[qual]:
            keys[s : s + m] += 0.12 * _tone(261.63 * 2 ** (((pc + iv) % 12) / 12), m, 1.5)
        if len(TRIADS[qual]) > 3:  # the seventh also sustained an octave up, as a pad or a top voice holds it
            keys[s : s + m] += 0.12 * _tone(523.25 * 2 ** (((pc + TRIADS[qual][3]) % 12) / 12), m, 3.0)
        bass[s : s + m] += 0.35 * _tone(41.2 * 2 ** (((pc - 4) % 12) / 12), m, 1.0)
        chords.append((start, stop, name))
    stems = {k: np.stack([v, v]).astype(np.float32) for k, v in (("drums", drums), ("bass", bass), ("piano", keys))}
    mixture = (stems["drums"] + stems["bass"] + stems["piano"]).astype(np.float32)
    return SynthSong(mixture, stems, np.array(beats), np.array(beats[::beats_per_bar]), chords)


def make_song_68(dotted_bpm: float, progression: list[str], bars: int, seed: int = 0) -> SynthSong:
    """6/8: six eighths a bar, kick on the 1st, snare on the 4th, hats on every eighth; one chord a bar.

    `beats` are the dotted quarters (two a bar, each split in three eighths), at `dotted_bpm`."""
    rng = np.random.default_rng(seed)
    eighth = 60.0 / dotted_bpm / 3
    t0, n_eighths = 0.3, 6 * bars
    end = t0 + n_eighths * eighth + 0.5
    n = int(end * SR)
    drums, bass, keys = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n_eighths):
        s = int((t0 + i * eighth) * SR)
        m = min(int(0.3 * SR), n - s)
        k = np.arange(m) / SR
        if i % 6 == 0:
            drums[s : s + m] += 0.8 * np.sin(2 * np.pi * 60 * k * (1 + 1.5 * np.exp(-k / 0.03))) * np.exp(-k / 0.08)
        elif i % 6 == 3:
            drums[s : s + m] += 0.4 * rng.standard_normal(m) * np.exp(-k / 0.05)
        hm = min(int(0.04 * SR), n - s)
        drums[s : s + hm] += 0.15 * rng.standard_normal(hm) * np.exp(-np.arange(hm) / (0.01 * SR))
    chords = []
    for b in range(bars):
        name = progression[b % len(progression)]
        root, qual = name.split(":")
        pc = NOTE[root[0]] + (1 if root.endswith("#") else -1 if root.endswith("b") and len(root) > 1 else 0)
        start, stop = t0 + 6 * b * eighth, t0 + 6 * (b + 1) * eighth
        s, m = int(start * SR), int((stop - start) * SR)
        for iv in TRIADS[qual]:
            keys[s : s + m] += 0.12 * _tone(261.63 * 2 ** (((pc + iv) % 12) / 12), m, 1.5)
        for j in range(2):  # bass on each dotted quarter
            bs = s + j * m // 2
            bass[bs : bs + m // 2] += 0.35 * _tone(41.2 * 2 ** (((pc - 4) % 12) / 12), m // 2, 0.5)
        chords.append((start, stop, name))
    stems = {k: np.stack([v, v]).astype(np.float32) for k, v in (("drums", drums), ("bass", bass), ("piano", keys))}
    mixture = (stems["drums"] + stems["bass"] + stems["piano"]).astype(np.float32)
    beats = t0 + 3 * eighth * np.arange(2 * bars)
    return SynthSong(mixture, stems, beats, beats[::2], chords)
