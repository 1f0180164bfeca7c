"""Harmonic/percussive split by median filtering, on a semi-log frequency axis.

Full resolution below `lin_hz` keeps bass notes apart; above it, bins are pooled into fractional-octave
bands so the vertical median filter spans the same musical width everywhere and runs fast.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .params import DspParams
from .spectrum import EPS


def band_edges(n_bins: int, bin_hz: float, lin_hz: float, per_oct: int) -> np.ndarray:
    """Start bins of pooled rows: one row per bin up to lin_hz, then 1/per_oct-octave bands."""
    lin = min(n_bins, int(lin_hz / bin_hz))
    edges = list(range(lin))
    f = lin * bin_hz
    while True:
        b = round(f / bin_hz)
        if b >= n_bins:
            break
        if b > edges[-1]:
            edges.append(b)
        f *= 2 ** (1 / per_oct)
    return np.asarray(edges, dtype=np.intp)


def hpss_masks(mag: np.ndarray, p: DspParams, bin_hz: float) -> np.ndarray:
    """Soft harmonic mask [F, T] from median filtering (percussive = 1 - harmonic)."""
    edges = band_edges(mag.shape[0], bin_hz, p.lin_hz, p.bands_per_octave)
    counts = np.diff(np.append(edges, mag.shape[0]))
    pooled = np.sqrt(np.add.reduceat(mag * mag, edges, axis=0) / counts[:, None].astype(mag.dtype))
    harm = ndimage.median_filter(pooled, size=(1, p.h_kernel), mode="reflect")
    perc = ndimage.median_filter(pooled, size=(p.p_kernel, 1), mode="reflect")
    hp, pp = harm**p.hpss_power, perc**p.hpss_power
    m = hp / (hp + pp + EPS)
    return np.repeat(m, counts, axis=0)
