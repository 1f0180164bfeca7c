"""Sections: bar-level features, boundaries where they change (Foote novelty), labels by similarity.

Segments that sound alike (same harmony, same groove, same instruments) get the same letter, in
order of first appearance: A, B, A, C ...
"""

from __future__ import annotations

import numpy as np

KERNEL_BARS = 4
MIN_SECTION_BARS = 4
NOVELTY_THRESHOLD = 0.15
SAME_LABEL_DISTANCE = 0.35


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0, keepdims=True)
    out: np.ndarray = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)
    return out


def novelty(features: np.ndarray) -> np.ndarray:
    """[bars] checkerboard-kernel novelty of a [bars, dims] feature matrix's self-similarity."""
    n, k = len(features), KERNEL_BARS
    unit = _unit_rows(features)
    ssm = unit @ unit.T
    out = np.zeros(n)
    for i in range(k, n - k + 1):
        past, future = ssm[i - k : i, i - k : i], ssm[i : i + k, i : i + k]
        cross = ssm[i - k : i, i : i + k]
        out[i] = (past.mean() + future.mean()) / 2 - cross.mean()
    return out


def boundaries(features: np.ndarray) -> list[int]:
    """Bar indices where a new section starts (always including 0)."""
    nov = novelty(features)
    cuts = [0]
    for i in np.argsort(-nov):
        if nov[i] < NOVELTY_THRESHOLD:
            break
        if all(abs(int(i) - c) >= MIN_SECTION_BARS for c in cuts) and len(features) - i >= MIN_SECTION_BARS:
            cuts.append(int(i))
    return sorted(cuts)


def label_sections(features: np.ndarray, cuts: list[int]) -> list[str]:
    """One letter per section: the first earlier section whose mean feature is close enough, else a new one."""
    unit = _unit_rows(features)
    ends = [*cuts[1:], len(features)]
    means = [unit[a:b].mean(axis=0) for a, b in zip(cuts, ends, strict=True)]
    labels: list[str] = []
    centroids: list[np.ndarray] = []
    for m in means:
        dist = [1.0 - float(m @ c / (np.linalg.norm(m) * np.linalg.norm(c) + 1e-9)) for c in centroids]
        if dist and min(dist) < SAME_LABEL_DISTANCE:
            labels.append(_letter(int(np.argmin(dist))))
        else:
            centroids.append(m)
            labels.append(_letter(len(centroids) - 1))
    return labels


def _letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"Z{i - 25}"
