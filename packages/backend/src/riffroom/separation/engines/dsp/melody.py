"""The lead voice: one predominant pitch per frame, and a soft comb mask on its harmonics.

Harmonic summation scores candidate pitches, a Viterbi pass with an unvoiced state smooths them into a
melody, and each frame's comb is weighted by a soft voicing probability rather than a hard decision.
"""

from __future__ import annotations

import numpy as np

from .params import Track
from .spectrum import EPS


def salience(mag: np.ndarray, tr: Track, bin_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Harmonic-summation salience [K, T] on a log-f0 grid, and the grid's f0 values in Hz."""
    midi = np.arange(tr.lo_midi, tr.hi_midi + 1e-9, tr.step)
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    # compressed (not log) magnitude keeps a lead's loudness advantage over single chord notes, and
    # few, decaying harmonic weights keep sub-octaves (which collect the accompaniment) from winning
    comp = (mag / (np.percentile(mag, 99) + EPS)) ** tr.gamma
    sal = np.zeros((len(f0), mag.shape[1]), dtype=np.float32)
    for h in range(1, tr.n_harm + 1):
        pos = h * f0 / bin_hz
        ok = pos < mag.shape[0] - 2
        lo = np.floor(pos[ok]).astype(np.intp)
        sal[ok] += (tr.harm_decay ** (h - 1)) * np.maximum(comp[lo], comp[lo + 1])
    sal += (tr.pitch_prior * (midi - midi[0]) / 12.0)[:, None] * np.std(sal)
    return sal, f0


def viterbi_f0(sal: np.ndarray, tr: Track) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed pitch-candidate index per frame (-1 where unvoiced), and the observation scores [K, T]."""
    k, t = sal.shape
    peak = sal.max(axis=0)
    thr = np.percentile(peak, tr.unvoiced_pct)  # (a fraction of a high percentile did worse)
    obs = tr.obs_scale * (sal - thr) / (np.std(peak) + EPS)
    steps = np.arange(k)
    trans = -tr.jump_cost * tr.step * np.abs(steps[:, None] - steps[None, :])
    score = np.append(obs[:, 0], 0.0)
    back = np.zeros((t, k + 1), dtype=np.intp)
    for i in range(1, t):
        cand = score[:k][None, :] + trans  # [to, from]
        best_from = np.argmax(cand, axis=1)
        best = cand[steps, best_from]
        from_unv = score[k] - tr.voicing_cost
        use_unv = from_unv > best
        voiced = np.where(use_unv, from_unv, best) + obs[:, i]
        back[i, :k] = np.where(use_unv, k, best_from)
        vmax = int(np.argmax(score[:k]))
        u_from_v = score[vmax] - tr.voicing_cost
        if u_from_v > score[k]:
            score_u, back[i, k] = u_from_v, vmax
        else:
            score_u, back[i, k] = score[k], k
        score = np.append(voiced, score_u)
    path = np.empty(t, dtype=np.intp)
    path[-1] = int(np.argmax(score))
    for i in range(t - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    path[path == k] = -1
    return path, obs


def track(mag: np.ndarray, tr: Track, bin_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """f0 in Hz per frame (0 where it gets no weight) and a voicing weight in [0, 1] per frame."""
    sal, grid = salience(mag, tr, bin_hz)
    path, obs = viterbi_f0(sal, tr)
    voiced = path >= 0
    if tr.soft_temp <= 0:
        return np.where(voiced, grid[np.maximum(path, 0)], 0.0), voiced.astype(np.float32)
    idx = np.where(voiced, path, np.argmax(sal, axis=0))
    o = obs[idx, np.arange(len(idx))]
    w = 1.0 / (1.0 + np.exp(-np.clip((o - tr.soft_bias) / tr.soft_temp, -50, 50)))
    w = np.where(voiced, w, tr.soft_unvoiced * w).astype(np.float32)
    return np.where(w > 1e-3, grid[idx], 0.0), w


def comb_mask(
    f0_track: np.ndarray, n_bins: int, tr: Track, bin_hz: float, weight: np.ndarray | None = None
) -> np.ndarray:
    """Soft mask [F, T] on the harmonics of the tracked f0 (0 in unvoiced frames).

    Each bin takes the largest Gaussian bump of the harmonics h * f0 <= max_hz. While the harmonic
    spacing s (bins) keeps s * comb_width_rel < comb_width, a bump two or more harmonics away is too far
    to beat the nearest one, so only the three harmonics nearest each bin are evaluated: the same mask
    as trying every harmonic, at a tenth of the cost. A harmonic reaches only the bins within four
    widths of where it sits in some voiced frame.
    """
    t = len(f0_track)
    mask = np.zeros((n_bins, t), dtype=np.float32)
    voiced = np.nonzero(f0_track > 0)[0]
    if len(voiced) == 0:
        return mask
    f0 = f0_track[voiced]
    n_harm = np.floor(tr.max_hz / f0)  # highest harmonic per frame ([V]); 0 where f0 > max_hz
    top = int(n_harm.max())
    if top < 1:
        return mask
    spacing = f0 / bin_hz  # harmonic spacing in bins, per frame
    # where harmonic h can reach: within four widths of its lowest and highest position
    h_all = np.arange(1, top + 1, dtype=np.float64)
    lo_c, hi_c = h_all * f0.min() / bin_hz, h_all * f0.max() / bin_hz
    reach_lo = np.maximum(0, np.floor(lo_c - 4 * (tr.comb_width + tr.comb_width_rel * lo_c)))
    reach_hi = np.minimum(n_bins, np.ceil(hi_c + 4 * (tr.comb_width + tr.comb_width_rel * hi_c)) + 1)
    # a bump is exactly 0 in float32 beyond 15 widths: no bin above the highest harmonic's 15th width is touched
    top_centre = float(np.max(n_harm * spacing))
    top_reach = int(np.ceil(top_centre + 15 * (tr.comb_width + tr.comb_width_rel * top_centre)))
    rows = min(n_bins, int(reach_hi.max()), top_reach)
    bins = np.arange(rows, dtype=np.float64)[:, None]
    nearest = np.rint(bins / spacing[None, :])  # [rows, V]
    best = np.zeros((rows, len(voiced)), dtype=np.float64)
    # the three nearest harmonics decide, unless the bumps are wide for their spacing: then every one does
    k = 1 if spacing.max() * tr.comb_width_rel < tr.comb_width else top
    for offset in np.arange(-k, k + 1, dtype=np.float64):
        h = np.clip(nearest + offset, 1.0, np.maximum(n_harm, 1.0)[None, :])
        centre = h * spacing[None, :]
        width = tr.comb_width + tr.comb_width_rel * centre
        g = np.exp(-0.5 * ((bins - centre) / width) ** 2)
        hi_idx = h.astype(np.intp) - 1
        reach = (bins >= reach_lo[hi_idx]) & (bins < reach_hi[hi_idx]) & (n_harm[None, :] >= 1)
        np.maximum(best, np.where(reach, g, 0.0), out=best)
    mask[:rows, voiced] = best
    if weight is not None:
        mask *= weight[None, :]
    return mask
