"""Synthetic songs with known beats, bars and chords for the analysis tests (numpy only, seeded)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SR = 44100
NOTE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
TRIADS = {"maj": (0, 4, 7), "min": (0, 3, 7)}


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
        bass[s : s + m] += 0.35 * _tone(41.2 * 2 ** (((pc - 4) % 12) / 12), m, 1.0)
        chords.append((start, stop, name))
    stems = {k: np.stack([v, v]).astype(np.float32) for k, v in (("drums", drums), ("bass", bass), ("piano", keys))}
    mixture = (stems["drums"] + stems["bass"] + stems["piano"]).astype(np.float32)
    return SynthSong(mixture, stems, np.array(beats), np.array(beats[::beats_per_bar]), chords)
