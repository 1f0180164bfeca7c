"""Key estimation: a key-profile match on the song's chroma, settled by the chords it found.

Profile matching alone confuses a key with its relative minor/major (the same seven notes) and with
its neighbours a fifth away. The chords settle it: a song mostly uses its key's chords, starts its
sections on the tonic triad, resolves the dominant to it (V -> I, in minor V:maj -> i, whose raised
seventh is the minor key's leading tone), and its bass dwells on the tonic.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Temperley's (Kostka-Payne) profiles: major and minor
MAJOR_PROFILE = np.array([5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0])
MINOR_PROFILE = np.array([5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0])
# the key's own chords: (interval above the tonic, triad); minor has both v and V (harmonic minor)
DIATONIC_CHORDS = {
    "major": {(0, "maj"), (2, "min"), (4, "min"), (5, "maj"), (7, "maj"), (9, "min")},
    "minor": {(0, "min"), (3, "maj"), (5, "min"), (7, "min"), (7, "maj"), (8, "maj"), (10, "maj")},
}
BASS_WEIGHT = 0.5  # bass chroma added to the treble chroma for the profile match
W_TONIC = 1.0  # share of the time on the tonic triad
W_DIATONIC = 1.0  # share of the time on the key's chords
W_FIRST = 0.3  # the first chord is the tonic triad
W_LAST = 0.0  # the last chord is the tonic triad (off: a song cut short ends anywhere)
W_SECTION = 0.4  # share of the section starts on the tonic triad
W_CADENCE = 0.0  # (neutral on the tuning songs) share of the chord changes that are V -> I (major, a fifth above)
W_LEADING = 0.5  # minor keys: share of the time on V:maj (the raised seventh)
W_BASS = 0.0  # (neutral on the tuning songs) the bass chroma's tonic over its strongest pitch class
CONFIDENCE_TEMPERATURE = 0.08


@dataclass(frozen=True)
class ChordSpan:
    root: int  # pitch class
    quality: str  # "maj", "min", "7", "maj7", "min7"
    start: float
    end: float

    @property
    def triad(self) -> str:
        return "min" if self.quality.startswith("min") else "maj"

    @property
    def seconds(self) -> float:
        return self.end - self.start


def key_names() -> list[str]:
    return [f"{PITCH_NAMES[r]} {m}" for m in ("major", "minor") for r in range(12)]


def profile_scores(chroma_sum: np.ndarray) -> np.ndarray:
    """[24] Pearson correlation of the summed chroma with each rotated key profile."""
    c = chroma_sum - chroma_sum.mean()
    out = []
    for prof in (MAJOR_PROFILE, MINOR_PROFILE):
        for r in range(12):
            p = np.roll(prof, r)
            p = p - p.mean()
            out.append(float(c @ p / (np.linalg.norm(c) * np.linalg.norm(p) + 1e-12)))
    return np.array(out)


def _sounding_at(chords: list[ChordSpan], t: float) -> ChordSpan | None:
    """The chord sounding at `t`, else the first one starting within a second after it."""
    for c in chords:
        if c.start <= t < c.end or (t <= c.start < t + 1.0):
            return c
    return None


def chord_evidence(chords: list[ChordSpan], section_starts: list[float]) -> np.ndarray:
    """[24] how well the chords fit each key: tonic and diatonic time, edges, sections, cadences."""
    out = np.zeros(24)
    if not chords:
        return out
    total = sum(c.seconds for c in chords) or 1.0
    at_sections = [c for c in (_sounding_at(chords, t) for t in section_starts) if c is not None]
    changes = [(a, b) for a, b in pairwise(chords) if (a.root, a.triad) != (b.root, b.triad)]
    for ki in range(24):
        tonic, mode = ki % 12, "major" if ki < 12 else "minor"
        tonic_q = "maj" if mode == "major" else "min"

        def is_tonic(c: ChordSpan, tonic: int = tonic, tonic_q: str = tonic_q) -> bool:
            return c.root == tonic and c.triad == tonic_q

        score = W_TONIC * sum(c.seconds for c in chords if is_tonic(c)) / total
        diatonic = DIATONIC_CHORDS[mode]
        score += W_DIATONIC * sum(c.seconds for c in chords if ((c.root - tonic) % 12, c.triad) in diatonic) / total
        score += W_FIRST * is_tonic(chords[0]) + W_LAST * is_tonic(chords[-1])
        if at_sections:
            score += W_SECTION * sum(map(is_tonic, at_sections)) / len(at_sections)
        if changes:
            cad = sum(1 for a, b in changes if is_tonic(b) and a.triad == "maj" and (a.root - tonic) % 12 == 7)
            score += W_CADENCE * cad / len(changes)
        if mode == "minor":
            lead = sum(c.seconds for c in chords if c.triad == "maj" and (c.root - tonic) % 12 == 7)
            score += W_LEADING * lead / total
        out[ki] = score
    return out


def bass_evidence(bass_sum: np.ndarray) -> np.ndarray:
    """[24] the bass's time on each key's tonic, relative to its most sustained pitch class."""
    b = bass_sum / (float(bass_sum.max()) + 1e-12)
    return W_BASS * np.tile(b, 2)


def estimate_key(
    treble_sum: np.ndarray, bass_sum: np.ndarray, chords: list[ChordSpan], section_starts: list[float]
) -> tuple[str, float]:
    """("C# minor", confidence 0..1) from summed chroma, the recognised chords and the section starts."""
    chroma_sum = treble_sum + BASS_WEIGHT * bass_sum
    if float(np.abs(chroma_sum).sum()) <= 1e-9:
        return "", 0.0
    total = profile_scores(chroma_sum) + chord_evidence(chords, section_starts) + bass_evidence(bass_sum)
    best = int(np.argmax(total))
    z = np.exp((total - total.max()) / CONFIDENCE_TEMPERATURE)
    return key_names()[best], float(z[best] / z.sum())
