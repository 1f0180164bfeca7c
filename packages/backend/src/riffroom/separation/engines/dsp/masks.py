"""Combining the cues into one soft mask per stem, in the engine's source order.

Each cue claims a share of the harmonic or percussive magnitude; the shares are raised to `mask_power`
and normalised to sum to one per bin, so every bin of the mix is handed out exactly once.
"""

from __future__ import annotations

import numpy as np

from ...engine import SAMPLE_RATE
from .bass import bass_estimate, kick_estimate
from .hpss import hpss_masks
from .melody import comb_mask, track
from .params import DspParams
from .spectrum import EPS, lowpass
from .stereo import centre_weight, pan_cues


def stem_masks(spec: np.ndarray, p: DspParams) -> np.ndarray:
    """[2, F, T] stereo spectrum -> [4, F, T] float32 masks for drums, bass, other, vocals.

    Everything is float32 (the spectrum's precision): float64 here only doubled the memory traffic.
    """
    bin_hz = SAMPLE_RATE / p.n_fft
    pl, pr = np.abs(spec[0]) ** 2, np.abs(spec[1]) ** 2
    mag = np.sqrt(0.5 * (pl + pr))
    n_bins = mag.shape[0]
    freqs = np.arange(n_bins) * bin_hz
    centre = centre_weight(spec, pl, pr)

    mh = hpss_masks(mag, p, bin_hz)
    harm = mag * mh
    perc = mag * (1.0 - mh)

    bass = bass_estimate(harm, freqs, centre, p)

    drums = perc.copy()
    if p.kick_gain > 0:  # kick body: reassign from harmonic to drums
        kick = kick_estimate(mag, perc, p, bin_hz)
        fk = kick.shape[0]
        drums[:fk] += kick
        bass[:fk] = np.maximum(0.0, bass[:fk] - kick)

    # vocals: melody f0 on the harmonic spectrum with panned instruments faded out, comb mask
    panned, in_phase = pan_cues(spec, p)
    vt = p.voc
    f0, vw = track(harm * (1.0 - p.track_centre * panned * in_phase), vt, bin_hz)
    comb = comb_mask(f0, n_bins, vt, bin_hz, vw)
    vocal_lp = lowpass(freqs, p.voc_lo_hz, p.bass_roll_hz)  # a low voice's fundamental sits under bass_hi_hz
    vocals = p.voc_gain * harm * comb * (1.0 - vocal_lp[:, None])

    drums *= 1.0 - p.pan_strength * panned
    bass *= 1.0 - p.pan_strength * panned
    vocals *= 1.0 - p.voc_pan_strength * panned * in_phase

    # cymbals ring long enough for the median filter to call them harmonic; above cymbal_hz, centred
    # harmonic energy that is neither bass nor the lead voice is mostly their wash, so it joins drums
    rest = np.maximum(0.0, harm - bass - vocals)
    hf = 1.0 - lowpass(freqs, p.cymbal_hz, p.cymbal_roll_hz)
    wash = p.cymbal_share * hf[:, None] * rest * (1.0 - panned)
    other = (rest - wash) + np.maximum(0.0, perc - drums)
    drums += wash / p.drum_gain  # a share of the energy, not boosted by the drums' mask gain
    ests = np.empty((4, *mag.shape), dtype=np.float32)
    for j, (gain, est) in enumerate(((p.drum_gain, drums), (p.bass_gain, bass), (p.other_gain, other), (1.0, vocals))):
        np.multiply(est, gain, out=ests[j])
    if p.mask_power == 2.0:
        np.square(ests, out=ests)
    else:
        np.power(ests, p.mask_power, out=ests)
    total = ests.sum(axis=0)
    total += EPS
    ests /= total
    return ests
