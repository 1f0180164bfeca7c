"""Key estimation: a key profile match on the song's chroma, checked against the chords it found.

Profile matching alone confuses a key with its relative minor/major (same notes); the chords settle
it, since a song dwells on, starts and ends on its tonic triad.
"""

from __future__ import annotations

import numpy as np

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Temperley's (Kostka-Payne) profiles: major and minor
MAJOR_PROFILE = np.array([5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0])
MINOR_PROFILE = np.array([5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0])
DIATONIC = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
TONIC_WEIGHT = 1.0
EDGE_WEIGHT = 0.15
CONFIDENCE_TEMPERATURE = 0.08


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


def chord_evidence(chords: list[tuple[int, str, float]]) -> np.ndarray:
    """[24] how well the (root, quality, seconds) chords fit each key: tonic time, diatonic time, ends."""
    total = sum(d for _, _, d in chords) or 1.0
    out = np.zeros(24)
    for ki in range(24):
        tonic, mode = ki % 12, "major" if ki < 12 else "minor"
        tonic_q = "maj" if mode == "major" else "min"
        score = 0.0
        for root, qual, dur in chords:
            rel = (root - tonic) % 12
            triad = "min" if qual.startswith("min") else "maj"
            if rel == 0 and triad == tonic_q:
                score += TONIC_WEIGHT * dur / total
            elif rel in DIATONIC[mode]:
                score += 0.2 * dur / total
        if chords:
            for root, qual, _ in (chords[0], chords[-1]):
                triad = "min" if qual.startswith("min") else "maj"
                if root == tonic and triad == tonic_q:
                    score += EDGE_WEIGHT
        out[ki] = score
    return out


def estimate_key(chroma_sum: np.ndarray, chords: list[tuple[int, str, float]]) -> tuple[str, float]:
    """("C# minor", confidence 0..1) from summed chroma and the recognised chords."""
    if float(np.abs(chroma_sum).sum()) <= 1e-9:
        return "", 0.0
    total = profile_scores(chroma_sum) + chord_evidence(chords)
    best = int(np.argmax(total))
    z = np.exp((total - total.max()) / CONFIDENCE_TEMPERATURE)
    return key_names()[best], float(z[best] / z.sum())
