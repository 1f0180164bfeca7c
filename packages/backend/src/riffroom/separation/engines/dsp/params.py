"""The dsp engine's tunables: one frozen record, so a setting change is a new, hashable value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Track:
    """Settings of one predominant-pitch tracker and of the comb mask built on its pitch."""

    lo_midi: float
    hi_midi: float
    n_harm: int
    harm_decay: float
    pitch_prior: float  # salience bonus per octave, in salience standard deviations
    jump_cost: float  # Viterbi cost per semitone of pitch change
    unvoiced_pct: float  # salience percentile that separates voiced from unvoiced frames
    comb_width: float  # bins
    comb_width_rel: float  # relative to the harmonic's bin (vibrato, chorus)
    max_hz: float  # highest harmonic in the comb
    step: float = 0.2  # semitones per pitch candidate
    gamma: float = 0.5
    voicing_cost: float = 2.0
    obs_scale: float = 2.0  # 3.0 in dsp-v1; softer observations suit the soft voicing
    # soft voicing: comb weight = sigmoid((obs at the pitch - soft_bias) / soft_temp), times
    # soft_unvoiced in frames the Viterbi path calls unvoiced (there the pitch is the frame's argmax)
    soft_temp: float = 1.0  # 0 = hard voicing (weight 1 voiced, 0 unvoiced)
    soft_bias: float = 0.0
    soft_unvoiced: float = 1.0


@dataclass(frozen=True)
class DspParams:
    """Tunables, chosen on FluidR3_GM songs of corpus seeds 1-6 and 8-10 (never on bench_dsp_sdr.py's EVAL_SPLIT)."""

    n_fft: int = 4096
    hop: int = 1024
    # HPSS (kernel sizes in frames / pooled frequency rows)
    h_kernel: int = 25
    p_kernel: int = 17
    hpss_power: float = 2.0
    lin_hz: float = 1500.0  # full-resolution rows below this, log bands above (median filter speed)
    bands_per_octave: int = 24
    # bass
    bass_hi_hz: float = 250.0
    bass_roll_hz: float = 80.0
    bass_centre: float = 1.0  # strength of the centre-pan weighting for bass
    # vocals
    voc: Track = Track(
        lo_midi=56,  # G#3-G5, a lead-vocal range; 52-82 let octave errors in (-0.11 dB on seeds 1-3)
        hi_midi=79,
        n_harm=4,
        harm_decay=0.85,
        pitch_prior=1.1,  # 0.75 in dsp-v5
        jump_cost=0.8,
        unvoiced_pct=40,
        comb_width=3.0,  # 1.2 in dsp-v1, 2.0 in dsp-v2
        comb_width_rel=0.012,
        max_hz=8000,
        gamma=0.7,  # 0.5 in dsp-v5
    )
    voc_gain: float = 1.3
    voc_lo_hz: float = 160.0  # the vocal comb starts here (bass_hi_hz in dsp-v5)
    drum_gain: float = 1.3
    bass_gain: float = 1.0
    other_gain: float = 1.0
    # panning: |L - R| / (|L| + |R|) per bin, ramped from pan_lo (centre) to pan_hi (panned), moves that share
    # of drums and bass to "other" (pan_strength); for vocals (voc_pan_strength) only where the channels are
    # also in phase, cos(phase difference) ramped over coherence_lo..coherence_hi, so a lead voice from a
    # wide stereo sample keeps its comb
    pan_lo: float = 0.1
    pan_hi: float = 0.4
    pan_strength: float = 1.0
    voc_pan_strength: float = 1.0
    coherence_lo: float = 0.9
    coherence_hi: float = 0.99
    track_centre: float = 1.0  # how much panned, in-phase energy the melody tracker ignores
    # cymbal wash: the share of centred, non-bass, non-vocal harmonic energy above cymbal_hz given to drums
    cymbal_hz: float = 3200.0
    cymbal_roll_hz: float = 2000.0  # width of the soft edge, as bass_roll_hz
    cymbal_share: float = 1.0
    # kick (off by default: on seeds 1-3 it moved as much bass into drums as kick out of bass)
    kick_hi_hz: float = 200.0
    kick_frames: int = 5
    kick_onset_thr: float = 0.2
    kick_similarity: float = 0.8
    kick_gain: float = 0.0
    # final mask exponent; optional multichannel Wiener pass (+0.15 dB for dsp-v2, -0.07 dB since the
    # stereo cues, at ~1.5x the time)
    mask_power: float = 2.0
    wiener: bool = False


# dsp-v6's settings, the benchmark's peer. The defaults are dsp-v6 today; whoever changes a default (and bumps
# DspEngine.model) writes the old value in here, so the next engine is always measured beside this one.
DSP_V6 = DspParams()
