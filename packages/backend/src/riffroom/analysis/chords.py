"""Chord recognition: template matching on beat-synchronous chroma, smoothed by a Viterbi search.

Labels follow Harte's syntax as mir_eval reads it (`C#:min`, `B:maj`, `G:7`, `N`). The bass chroma
votes for the root, so an inversion or a sparse voicing is still named by its root. The search
decodes triads only; a triad becomes `X:7`, `X:maj7` or `X:min7` afterwards only where its seventh
is clearly there over the whole chord (`with_seventh`): a wrong seventh is worse than none.
"""

from __future__ import annotations

import numpy as np

from .keys import PITCH_NAMES

QUALITIES: dict[str, tuple[int, ...]] = {"maj": (0, 4, 7), "min": (0, 3, 7)}  # what the Viterbi search decodes
# sevenths a triad may become afterwards: quality -> interval of its seventh above the root
SEVENTHS: dict[str, dict[str, int]] = {"maj": {"7": 10, "maj7": 11}, "min": {"min7": 10}}
# the seventh's chroma on a scale from the median non-chord tone (0) to the triad's mean (1): high, as a
# triad's own harmonics and a guitar's distortion put some energy on the sevenths of every chord
SEVENTH_LEVEL = {"7": 0.9, "min7": 0.9, "maj7": 1.0}
SEVENTH_MARGIN = 0.25  # and this much above the other candidate seventh (b7 vs maj7)
BASS_WEIGHT = 0.2
SWITCH_COST = 0.5
DOWNBEAT_SWITCH_COST = 0.15
NO_CHORD_LEVEL = 0.05  # treble energy (relative to the song's median) below which a beat is `N`


def chord_labels() -> list[str]:
    return [f"{PITCH_NAMES[r]}:{q}" for q in QUALITIES for r in range(12)] + ["N"]


def _templates() -> np.ndarray:
    rows = []
    for tones in QUALITIES.values():
        for r in range(12):
            t = np.zeros(12)
            for k in tones:
                t[(r + k) % 12] = 1.0
            rows.append(t / np.linalg.norm(t))
    return np.array(rows)


def chord_scores(treble: np.ndarray, bass: np.ndarray | None) -> np.ndarray:
    """[labels, beats] match of each label to each beat (higher is better)."""
    energy = np.linalg.norm(treble, axis=0)
    unit = treble / (energy + 1e-9)
    unit = unit - unit.mean(axis=0, keepdims=True) * 0.5
    tmpl = _templates()
    sc = tmpl @ unit
    roots = np.tile(np.arange(12), len(QUALITIES))
    if bass is not None:
        bnorm = bass / (bass.max(axis=0, keepdims=True) + 1e-9)
        sc += BASS_WEIGHT * bnorm[roots]
    quiet = energy < NO_CHORD_LEVEL * (np.median(energy) + 1e-9)
    n_row = np.where(quiet, 1.0 + BASS_WEIGHT, 0.0)[None, :]
    return np.vstack([sc, n_row])


def decode(scores: np.ndarray, downbeat_mask: np.ndarray | None = None) -> np.ndarray:
    """Viterbi path of label indices per beat; changing label costs less on a downbeat."""
    n_lab, n = scores.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cost = np.full(n, SWITCH_COST)
    if downbeat_mask is not None:
        cost[downbeat_mask] = DOWNBEAT_SWITCH_COST
    acc = scores[:, 0].copy()
    back = np.zeros((n_lab, n), dtype=np.int64)
    for t in range(1, n):
        best = int(np.argmax(acc))
        stay = acc
        switch = acc[best] - cost[t]
        take_switch = switch > stay
        back[:, t] = np.where(take_switch, best, np.arange(n_lab))
        acc = np.where(take_switch, switch, stay) + scores[:, t]
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(np.argmax(acc))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[path[t], t]
    return path


def with_seventh(chroma: np.ndarray, root: int, triad: str) -> str:
    """`triad`, or its seventh chord's quality when the seventh's chroma is clearly present.

    `chroma` [12] is the treble chroma averaged over the chord's span. The seventh's level is read on
    a scale from the median non-chord tone (0) to the triad's mean (1); it must reach
    SEVENTH_LEVEL and beat the other candidate seventh (b7 against maj7) by SEVENTH_MARGIN."""
    tones = [(root + k) % 12 for k in QUALITIES[triad]]
    b7, maj7 = (root + 10) % 12, (root + 11) % 12
    others = [p for p in range(12) if p not in tones and p not in (b7, maj7)]
    floor = float(np.median(chroma[others]))
    span = float(chroma[tones].mean()) - floor
    if span <= 1e-9:
        return triad
    level = {p: (float(chroma[p]) - floor) / span for p in (b7, maj7)}
    for quality, interval in SEVENTHS[triad].items():
        p = (root + interval) % 12
        rival = level[maj7 if p == b7 else b7]
        if level[p] >= SEVENTH_LEVEL[quality] and level[p] - rival >= SEVENTH_MARGIN:
            return quality
    return triad
