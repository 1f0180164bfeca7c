"""The low end: the bass as centred low harmonic energy, and an optional kick-body estimate.

A comb on a tracked bass pitch did not beat the plain centre-weighted low band, so the bass is a soft
low-pass on the harmonic spectrum. The kick's tonal body looks harmonic to a median filter; when
`kick_gain` is on, a template of the kick taken at its onsets moves that body from bass to drums.
"""

from __future__ import annotations

import numpy as np

from .params import DspParams
from .spectrum import EPS, lowpass


def bass_estimate(harm: np.ndarray, freqs: np.ndarray, centre: np.ndarray, p: DspParams) -> np.ndarray:
    """Magnitude [F, T] of the bass: low harmonic content, favouring the centre of the mix."""
    lp = lowpass(freqs, p.bass_hi_hz, p.bass_roll_hz)
    bass: np.ndarray = harm * lp[:, None] * (1 - p.bass_centre + p.bass_centre * centre)
    return bass


def kick_estimate(mag: np.ndarray, perc: np.ndarray, p: DspParams, bin_hz: float) -> np.ndarray:
    """Magnitude of kick bodies [F_low, T].

    A kick repeats the same short low thump, while the bass under it changes pitch with the chords, so
    the median of low-band patches taken at kick onsets is the kick alone. Hits that do not look like
    that template (bass-note onsets) are dropped, and each kept hit gets a robust gain.
    """
    f_hi = int(p.kick_hi_hz / bin_hz) + 1
    low = mag[:f_hi]
    t = mag.shape[1]
    env = perc[1:f_hi].sum(axis=0)
    flux = np.maximum(0.0, np.diff(env, prepend=env[:1]))
    thr = p.kick_onset_thr * np.percentile(flux, 95)
    peaks = np.nonzero((flux[1:-1] > thr) & (flux[1:-1] >= flux[:-2]) & (flux[1:-1] > flux[2:]))[0] + 1
    out = np.zeros_like(low)
    L = p.kick_frames
    if len(peaks) < 4:
        return out
    idx = np.minimum(peaks[:, None] + np.arange(L)[None, :], t - 1)
    patches = np.transpose(low[:, idx], (1, 0, 2))  # [hits, F, L]
    keep = np.ones(len(peaks), dtype=bool)
    for _ in range(2):
        tmpl = np.median(patches[keep], axis=0)
        flat, tf = patches.reshape(len(peaks), -1), tmpl.ravel()
        cos = flat @ tf / (np.linalg.norm(flat, axis=1) * np.linalg.norm(tf) + EPS)
        keep = cos >= p.kick_similarity
        if keep.sum() < 4:
            return out
    tmpl = np.median(patches[keep], axis=0)
    sig = tmpl > 0.25 * tmpl.max()
    for j in np.nonzero(keep)[0]:
        i = peaks[j]
        g = np.median(patches[j][sig] / tmpl[sig])
        n = min(L, t - i)
        est = np.minimum(patches[j], g * p.kick_gain * tmpl)[:, :n]
        out[:, i : i + n] = np.maximum(out[:, i : i + n], est)
    return out
