"""Stereo cues: mixes keep drums, bass and the lead voice in the centre and spread guitars and keys.

Energy amplitude-panned away from the centre, and in phase between the channels (which a wide stereo
sample or reverb is not), therefore belongs to "other"; these per-bin weights say how much.
"""

from __future__ import annotations

import numpy as np

from .params import DspParams
from .spectrum import EPS


def centre_weight(spec: np.ndarray, power_l: np.ndarray, power_r: np.ndarray) -> np.ndarray:
    """Per-bin [F, T] centre-ness: 1 for L == R (same phase), towards 0 for panned or decorrelated content."""
    side = np.abs(spec[0] - spec[1]) ** 2
    centre: np.ndarray = np.clip(1.0 - side / (power_l + power_r + EPS), 0.0, 1.0)
    return centre


def pan_cues(spec: np.ndarray, p: DspParams) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin [F, T] weights in [0, 1]: how far off-centre the bin is panned, and how in-phase L and R are."""
    left, right = np.abs(spec[0]), np.abs(spec[1])
    pan = np.abs(left - right) / (left + right + EPS)
    panned = np.clip((pan - p.pan_lo) / (p.pan_hi - p.pan_lo), 0.0, 1.0)
    cos_dphi = np.real(spec[0] * np.conj(spec[1])) / (left * right + EPS)
    in_phase = np.clip((cos_dphi - p.coherence_lo) / (p.coherence_hi - p.coherence_lo), 0.0, 1.0)
    return panned.astype(np.float32), in_phase.astype(np.float32)
